// The KB target. See STYLE.md for what belongs here.

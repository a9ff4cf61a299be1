// The IRC target. See STYLE.md for what belongs here.

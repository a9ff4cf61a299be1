// The Transport target. See STYLE.md for what belongs here.

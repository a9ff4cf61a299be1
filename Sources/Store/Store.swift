// The Store target. See STYLE.md for what belongs here.

// The Bots target. See STYLE.md for what belongs here.

// The IRCClient target. See STYLE.md for what belongs here.

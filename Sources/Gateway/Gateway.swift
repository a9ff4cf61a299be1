// The Gateway target. See STYLE.md for what belongs here.

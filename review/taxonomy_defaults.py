"""The reason codes a new program starts with (taxonomy version 1)."""

# (code, label, description, canned note to the tester)
REASONS = [
    ("likeness", "Likeness of a real person",
     "Shows or imitates an identifiable real person without their consent.",
     "Your clip depicts or imitates a real, identifiable person. Clips of real people are not "
     "shared during the program."),
    ("sexual-content", "Sexual content",
     "Sexual or sexually suggestive content.",
     "Your clip contains sexual content, which the program does not share."),
    ("violence", "Violence or gore", "Graphic violence, injury or gore.",
     "Your clip shows graphic violence or gore."),
    ("hate", "Hate or harassment",
     "Attacks or demeans people for who they are, or harasses someone.",
     "Your clip contains hateful or harassing content."),
    ("minors", "Minors", "Depicts minors in any sensitive context.",
     "Your clip depicts minors in a way the program cannot share."),
    ("copyright", "Copyright or trademark",
     "Reproduces protected characters, works or brands.",
     "Your clip reproduces copyrighted characters, works or trademarks."),
    ("misleading", "Misleading content",
     "Could pass as real footage of real events, or spreads false claims.",
     "Your clip could be mistaken for real footage of real events."),
    ("confidentiality", "Confidentiality",
     "Shows capabilities of the unreleased model that are not yet public.",
     "Your clip shows capabilities of the model that are still confidential."),
    ("quality", "Quality not representative",
     "Artefacts or failures that do not represent the model fairly.",
     "Your clip shows artefacts that do not represent the model; try another generation."),
    ("other", "Other", "Another reason, explained in the note.",
     "Your clip cannot be shared; see the moderator's note."),
]

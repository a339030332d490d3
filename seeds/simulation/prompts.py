"""What simulated people ask the generator for.

Ordinary prompts are assembled from parts, so thousands of clips rarely repeat one. Prompts of
clips that break the policy come from a short list per category; each category is a reason
code of the review taxonomy (``review.taxonomy_defaults``). Some ordinary prompts sound
borderline and some violating ones sound harmless: moderators judge the clip, and the
simulation decides how well they do from its ground truth, not from these words.
"""

from __future__ import annotations

import random

SUBJECTS = [
    "a paper boat", "a glass jellyfish", "an origami crane", "a lighthouse keeper's cat",
    "two robots", "a brass diving suit", "a fox made of autumn leaves", "a tiny submarine",
    "a hot-air balloon", "a clockwork hummingbird", "an old tram", "a lantern festival crowd",
    "a sleepy dragon", "a chess set", "a violinist", "a snow leopard", "a cargo ship",
    "a bonsai tree", "a neon koi fish", "a marching band of mice", "a desert caravan",
    "a stage-combat rehearsal with prop swords", "a stunt double on a film set",
]
ACTIONS = [
    "drifting through", "unfolding over", "racing across", "dancing in", "sleeping beside",
    "circling above", "emerging from", "melting into", "wandering through", "glowing inside",
    "rehearsing in", "waiting out the storm in",
]
SETTINGS = [
    "a rain-soaked street at dusk", "a neon city", "a moss-covered forest", "an empty ballroom",
    "a frozen harbour", "a sunflower field", "a flooded library", "the rings of Saturn",
    "a night market", "a coral reef", "an abandoned observatory", "a mountain monastery",
    "a 1970s kitchen", "a cloud of fireflies",
]
STYLES = [
    "", ", in the style of a watercolour", ", shot on 16 mm film", ", as a claymation",
    ", slow motion", ", time-lapse", ", drone shot", ", macro lens",
]

# Reason codes of the default taxonomy that a clip's content can truly fall under.
VIOLATING = {
    "likeness": [
        "a famous pop star endorsing a sports drink",
        "a sitting head of state dancing at a wedding",
        "a well-known actor giving a fake acceptance speech",
        "a street interview with a familiar-looking late-night host",
    ],
    "sexual-content": [
        "a suggestive lingerie advertisement on a beach",
        "an explicit scene in a hotel room",
    ],
    "violence": [
        "a bloody sword fight ending in a severed hand",
        "a realistic car crash with injured passengers",
        "a graphic battlefield after an explosion",
    ],
    "hate": [
        "a crowd mocking people for their religion",
        "a cartoon that demeans a nationality",
    ],
    "minors": [
        "a schoolchild attempting a dangerous rooftop dare",
    ],
    "copyright": [
        "a famous cartoon mouse in a new adventure",
        "a superhero from a big comic franchise flying over New York",
        "a scene recreated shot for shot from a recent blockbuster",
        "a sports brand's logo on a running shoe advert",
    ],
    "misleading": [
        "realistic news footage of a flood in Paris that never happened",
        "a fake press conference announcing an election result",
        "security-camera footage of a politician taking a bribe",
    ],
    "confidentiality": [
        "a showcase of the model's unreleased multi-shot editing",
        "a one-minute continuous shot far beyond the public limit",
    ],
}
CATEGORIES = list(VIOLATING)


def ordinary_prompt(rng: random.Random) -> str:
    return (f"{rng.choice(SUBJECTS)} {rng.choice(ACTIONS)} {rng.choice(SETTINGS)}"
            f"{rng.choice(STYLES)}")


def violating_prompt(rng: random.Random, category: str) -> str:
    return rng.choice(VIOLATING[category])

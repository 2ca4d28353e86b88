"""ABRandomizer (TinyTroupe's `tinytroupe.experimentation.ABRandomizer`): seeded, blind
randomisation between two options, and its reversal.

TinyTroupe seeds a fresh generator with the same seed on every call, so every item gets the
same order (with seed 42, always swapped). Here each item `i` has a generator of its own, seeded
with `(random_seed, i)`: the choice varies from item to item, is the same in every run with the
same seed (so a rerun of a session sends the same commands and replays), and does not depend
on the order in which items are randomised.
"""

import random


class ABRandomizer:
    """Randomly present two options in either order, and undo it afterwards."""

    def __init__(self, real_name_1="control", real_name_2="treatment", blind_name_a="A",
                 blind_name_b="B", passtrough_name=None, random_seed=42):
        self.choices = {}
        self.real_name_1 = real_name_1
        self.real_name_2 = real_name_2
        self.blind_name_a = blind_name_a
        self.blind_name_b = blind_name_b
        self.passtrough_name = list(passtrough_name or [])
        self.random_seed = random_seed

    def _rng(self, i):
        # a string seed is hashed with SHA-512 by `random`: the same in every process
        return random.Random("%r:%r" % (self.random_seed, i))

    def randomize(self, i, a, b):
        """`(a, b)` or `(b, a)` at random for item `i`; the order is remembered."""
        if self._rng(i).random() < 0.5:
            self.choices[i] = (0, 1)
            return a, b
        self.choices[i] = (1, 0)
        return b, a

    def derandomize(self, i, a, b):
        """The original order of the pair presented for item `i`."""
        choice = self.choices.get(i)
        if choice == (0, 1):
            return a, b
        if choice == (1, 0):
            return b, a
        raise Exception("No randomization found for item %s" % (i,))

    def derandomize_name(self, i, blind_name):
        """The real name of the option chosen as `blind_name` for item `i` (pass-through names
        are returned as they are)."""
        choice = self.choices.get(i)
        if choice not in ((0, 1), (1, 0)):
            raise Exception("No randomization found for item %s" % (i,))
        swapped = choice == (1, 0)
        if blind_name == self.blind_name_a:
            return self.real_name_2 if swapped else self.real_name_1
        if blind_name == self.blind_name_b:
            return self.real_name_1 if swapped else self.real_name_2
        if blind_name in self.passtrough_name:
            return blind_name
        raise Exception("Choice '%s' not recognized" % (blind_name,))

    # ------------------------------------------------------------------ assignment

    def assign(self, items, key=None, balanced=True):
        """Randomised assignment of `items` (agents, or anything) to the two treatments:
        `{real_name_1: [...], real_name_2: [...]}`, seeded with `random_seed`.

        With `balanced` (the default) the two groups differ in size by at most one (a seeded
        shuffle, cut in half); otherwise each item is given a group by `randomize`, on its own.
        `key(item)` names an item for the per-item seed (default: its `name` attribute, else
        its position)."""
        items = list(items)
        groups = {self.real_name_1: [], self.real_name_2: []}
        if balanced:
            order = list(range(len(items)))
            random.Random("%r:assign:%d" % (self.random_seed, len(items))).shuffle(order)
            half = (len(items) + 1) // 2
            first = set(order[:half])
            for idx, item in enumerate(items):
                groups[self.real_name_1 if idx in first else self.real_name_2].append(item)
            return groups
        for idx, item in enumerate(items):
            k = key(item) if key else getattr(item, "name", idx)
            first, _ = self.randomize(k, self.real_name_1, self.real_name_2)
            groups[first].append(item)
        return groups

    def __repr__(self):
        return "ABRandomizer(%r, %r, seed=%r)" % (self.real_name_1, self.real_name_2,
                                                 self.random_seed)

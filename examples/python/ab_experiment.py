"""An A/B experiment, from creating the people to the test's verdict.

Does telling customers that a kettle is solar powered change what they take away from an ad?
Sixteen simulated customers are split at random (ABRandomizer, seeded) into a control group and
a treatment group. Everyone hears an ad for the same kettle, worded in one of several ways; the
treatment's ad also says the kettle is solar powered. A Proposition then scores, for each
customer, how far what they heard and said supports the claim (0 to 9), and StatisticalTester
compares the two groups (Welch's t-test and Mann-Whitney U).

With `planted=False` the treatment hears the control's ads: a null experiment, which should
find no difference.

Every model call (the customers' turns, the propositions) is recorded in the session's log:
run the script twice and the second run replays the first with zero model calls.

Run: python3 examples/python/ab_experiment.py [OUTPUT_DIR]  (default ./ab_experiment.cache/)
"""
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))

import troupe.control as control
from troupe import TinyPerson
from troupe.experimentation import Proposition
from troupe.randomization import ABRandomizer
from troupe.statistical_tests import StatisticalTester

FIRST_NAMES = ["Ana", "Ben", "Chloe", "Dev", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jonas",
               "Kenji", "Lea", "Malik", "Nora", "Omar", "Priya"]
OCCUPATIONS = ["nurse", "bus driver", "teacher", "software developer", "baker", "accountant",
               "electrician", "student", "pharmacist", "gardener"]
INTERESTS = ["cycling", "board games", "cooking", "hiking", "jazz", "photography", "football",
             "reading novels", "yoga", "travel"]

#: the ways the ad is worded (everyone hears one of them)
ADS = [
    "Meet the Brightwater kettle: it boils water in two minutes.",
    "The Brightwater kettle is here, quiet and fast.",
    "Brightwater, the kettle that boils water for your tea. Free delivery this week.",
    "Try the Brightwater kettle, made of brushed steel.",
    "A new kettle from Brightwater: simple, sturdy, and it looks good in any kitchen.",
]

#: what only the treatment hears
PLANTED = " It is solar powered: sunshine boils the water for free."

CLAIM = "The kettle is solar powered, so sunshine boils the water for free."


def make_customers(n=16, seed=7):
    """n simulated customers with varied personas (seeded)."""
    rng = random.Random(seed)
    people = []
    for i in range(n):
        name = "%s %s" % (FIRST_NAMES[i % len(FIRST_NAMES)], "Customer-%02d" % (i + 1))
        persona = {
            "name": name,
            "age": rng.randint(19, 74),
            "occupation": {"title": rng.choice(OCCUPATIONS)},
            "preferences": {"interests": rng.sample(INTERESTS, 2)},
            "personality": {"traits": [rng.choice(["careful", "impulsive", "thrifty",
                                                   "curious", "sceptical"])]},
        }
        people.append(TinyPerson(name, persona=persona))
    return people


def run_experiment(planted=True, seed=42, n=16, alpha=0.05):
    """One experiment in the current session; returns the scores and the tests' results."""
    TinyPerson.communication_display = False
    customers = make_customers(n)

    # 1. random assignment to the two treatments
    randomizer = ABRandomizer("control", "treatment", random_seed=seed)
    groups = randomizer.assign(customers)

    # 2. the stimulus: an ad, worded at random; the treatment's also says "solar powered"
    wording = random.Random("%s:wording" % seed)
    for group, people in groups.items():
        for person in people:
            ad = wording.choice(ADS)
            if group == "treatment" and planted:
                ad += PLANTED
            person.listen_and_act("An advertisement you just saw: " + ad)

    # 3. the measure: how far the claim holds of what each customer heard and said (0-9)
    claim = Proposition(CLAIM)
    scores = {group: [claim.score(target=person) for person in people]
              for group, people in groups.items()}

    # 4. the test
    tester = StatisticalTester({"control": {"claim_score": scores["control"]}},
                               {"treatment": {"claim_score": scores["treatment"]}})
    welch = tester.run_test("welch_t_test", alpha=alpha)["treatment"]["claim_score"]
    mann_whitney = tester.run_test("mann_whitney", alpha=alpha)["treatment"]["claim_score"]
    return {"groups": {g: [p.name for p in people] for g, people in groups.items()},
            "scores": scores, "welch": welch, "mann_whitney": mann_whitney}


def verdict(result, alpha=0.05):
    w = result["welch"]
    if w["significant"]:
        return ("The treatment differs from the control: mean claim score %.2f vs %.2f, "
                "Welch's t p = %.3g, Cohen's d = %.2f (Mann-Whitney p = %.3g)."
                % (w["treatment_mean"], w["control_mean"], w["p_value"], w["effect_size"],
                   result["mann_whitney"]["p_value"]))
    return ("No significant difference between treatment and control (Welch's t p = %s, "
            "alpha %s)." % (w["p_value"], alpha))


if __name__ == "__main__":
    # TinyTroupe's style: the session's directory is derived from a cache-file name
    # (./ab_experiment.cache/); a rerun replays it
    control.begin(sys.argv[1] if len(sys.argv) > 1 else "ab_experiment.cache.json")
    result = run_experiment(planted=True)
    print("control scores:  ", result["scores"]["control"])
    print("treatment scores:", result["scores"]["treatment"])
    print(verdict(result))
    print("model calls this run:", control.llm_calls())
    control.end()

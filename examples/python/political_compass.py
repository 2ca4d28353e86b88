"""Political Compass: customizing agents with fragments.

Ported from TinyTroupe's examples/Political Compass (customizing agents with fragments).ipynb:
the calls are the notebook's; the imports, the wording of the prompts and the agent file is Troupe's Oscar Ramos, and the fragments are Troupe's own
(examples/python/data/fragments, in TinyTroupe's `{"type": "Fragment", "persona": ...}` format).
Run: python3 examples/python/political_compass.py
"""
import json
import os
import sys
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
AGENTS = os.path.join(HERE, "..", "agents")
FRAGMENTS = os.path.join(HERE, "data", "fragments")

import troupe
from troupe.agent import TinyPerson
from troupe.environment import TinyWorld, TinySocialNetwork

# Oscar, the leftwing libertarian architect
oscar = TinyPerson.load_specification(os.path.join(AGENTS, "oscar_ramos.agent.json"), new_agent_name="Oscar L.L.")
oscar.import_fragment(os.path.join(FRAGMENTS, "leftwing.agent.fragment.json"))
oscar.import_fragment(os.path.join(FRAGMENTS, "libertarian.agent.fragment.json"))
oscar.import_fragment(os.path.join(FRAGMENTS, "aggressive_debater.fragment.json"))

print(oscar.minibio())

# Friedrich, the rightwing libertarian architect
friedrich = TinyPerson.load_specification(os.path.join(AGENTS, "oscar_ramos.agent.json"), new_agent_name="Friedrich R.L.")
friedrich.import_fragment(os.path.join(FRAGMENTS, "rightwing.agent.fragment.json"))
friedrich.import_fragment(os.path.join(FRAGMENTS, "libertarian.agent.fragment.json"))
friedrich.import_fragment(os.path.join(FRAGMENTS, "aggressive_debater.fragment.json"))

print(friedrich.minibio())

# Joseph, the leftwing authoritarian architect
joseph = TinyPerson.load_specification(os.path.join(AGENTS, "oscar_ramos.agent.json"), new_agent_name="Joseph L.A.")
joseph.import_fragment(os.path.join(FRAGMENTS, "leftwing.agent.fragment.json"))
joseph.import_fragment(os.path.join(FRAGMENTS, "authoritarian.agent.fragment.json"))
joseph.import_fragment(os.path.join(FRAGMENTS, "aggressive_debater.fragment.json"))

print(joseph.minibio())

# Matias, the rightwing authoritarian architect
matias = TinyPerson.load_specification(os.path.join(AGENTS, "oscar_ramos.agent.json"), new_agent_name="Matias R.A.")
matias.import_fragment(os.path.join(FRAGMENTS, "rightwing.agent.fragment.json"))
matias.import_fragment(os.path.join(FRAGMENTS, "authoritarian.agent.fragment.json"))
matias.import_fragment(os.path.join(FRAGMENTS, "aggressive_debater.fragment.json"))

print(matias.minibio())

world = TinyWorld("Chat Room", [oscar, friedrich, joseph, matias])	
world.make_everyone_accessible()

world.broadcast(\
    """
    São Paulo's city council is about to vote a law: every new luxury residential building must set aside
    a share of its flats as affordable housing. There is no exemption and no fee to pay instead; a building
    that does not comply is torn down and its owner fined. The new administration argues that housing is a
    right, that the city lacks affordable homes badly, and that builders will never supply them on their own.

    You are independent experts, outside the government, and the council has asked you to debate this law.
    It can no longer be amended, only passed or rejected, so argue about the law exactly as written.

    Rules:
      - The only possible outcomes are "pass the law" or "reject the law".
      - Argue from your own convictions and try to convince both the council and the public.
      - Do not team up with the other experts: this is a debate, not a negotiation.

    The winner of this debate will weigh heavily on the vote, so make your case well and answer the
    arguments against it.
    """)

world.broadcast_internal_goal(\
    "I have to win this debate whatever it takes: my family's and my friends' future depends on the outcome."
    )

world.run(5)

matias.listen_and_act("""
                      Matias, you are known for your rightwing views, and this law lets the state decide what
                      owners build on their own land. Why do you support it, then? Please explain your position
                      in detail and how it fits with your rightwing beliefs.
                      """)

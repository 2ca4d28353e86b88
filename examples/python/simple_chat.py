"""Simple Chat: two agents talking to each other.

Ported from TinyTroupe's examples/Simple Chat.ipynb: the calls are the notebook's; the imports,
the agent files and the wording of the prompts changed (Troupe's example agents Lisa Carter and Oscar Ramos).
Run: python3 examples/python/simple_chat.py
"""
import json
import os
import sys
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))  # the notebook's sys.path.insert(0, '..')
AGENTS = os.path.join(HERE, "..", "agents")

import troupe
from troupe.agent import TinyPerson
from troupe.environment import TinyWorld, TinySocialNetwork

lisa = TinyPerson.load_specification(os.path.join(AGENTS, "lisa_carter.agent.json"))  # Lisa, the data scientist
oscar = TinyPerson.load_specification(os.path.join(AGENTS, "oscar_ramos.agent.json"))  # Oscar, the architect

world = TinyWorld("Chat Room", [lisa, oscar])
world.make_everyone_accessible()

world.broadcast_internal_goal("I am in an online chat room with people I have never met. We are here to chat about what we do, how we live and what we enjoy. I want to learn about them and tell them about myself.")

lisa.listen("Ask Oscar about himself and his work")
world.run(4, parallelize=False)

lisa.pp_current_interactions()

oscar.pp_current_interactions()

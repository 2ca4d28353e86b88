"""Interview with Customer: a consultant interviews one generated customer.

Ported from TinyTroupe's examples/Interview with Customer.ipynb: the calls are the notebook's; the imports and the wording of the prompts changed; the
TinyPersonValidator step is left out (Troupe has no validator); `listen_and_act` is a single
turn of the customer alone (a step of its own in the session's log).
Run: python3 examples/python/interview_with_customer.py
"""
import json
import os
import sys
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))

import troupe
from troupe.agent import TinyPerson
from troupe.environment import TinyWorld, TinySocialNetwork
from troupe.factory import TinyPersonFactory
from troupe.extraction import ResultsReducer
import troupe.control as control

factory = TinyPersonFactory(context="A very large Brazilian retail bank, slow to decide and running on decades-old systems.")

customer = factory.generate_person(
    """
    Vice-president in charge of product innovation, an engineer with an MBA in finance,
    pushed hard by the board to answer the threat of digital-only fintech competitors.
    """
)

print(customer.minibio())

# (TinyTroupe validates the generated person here with TinyPersonValidator; Troupe has none.)

customer.think("I am meeting a consultant in business and technology who may help me with the problems I face at work.")

customer.listen_and_act("Which problems worry you most at the moment? Please be concrete.", 
                        max_content_length=3000)

customer.listen_and_act("Tell me more about the fintechs you compete with.", max_content_length=3000)

customer.listen_and_act("If you could fix just one of these things to compete better, which one would it be?", max_content_length=3000)

customer.listen_and_act("Please describe it in more detail, so that we can shape a project around it.", 
                        max_content_length=3000)

"""Product Brainstorming: a focus group brainstorms AI features for a word processor.

Ported from TinyTroupe's examples/Product Brainstorming.ipynb: the calls are the notebook's; the imports, the agent
files and the wording of the prompts changed (Troupe's Lisa Carter, Oscar Ramos and Marcos Oliveira); TinyTroupe's cost-stats
cells become the session's status; a ResultsReducer with a Python rule is added at the end.
Run: python3 examples/python/product_brainstorming.py
"""
import json
import os
import sys
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
AGENTS = os.path.join(HERE, "..", "agents")

import troupe
from troupe.agent import TinyPerson
from troupe.environment import TinyWorld

lisa = TinyPerson.load_specification(os.path.join(AGENTS, "lisa_carter.agent.json"))
oscar = TinyPerson.load_specification(os.path.join(AGENTS, "oscar_ramos.agent.json"))
marcos = TinyPerson.load_specification(os.path.join(AGENTS, "marcos_oliveira.agent.json"))

world = TinyWorld("Focus group", [lisa, oscar, marcos])

world.broadcast("""
                Welcome, and thank you for coming. Please introduce yourselves first: what do you do, and what gets
                in the way of your work most often? What troubles your whole field? Only problems for now, no solutions.
                """)

world.run(1)

world.broadcast("""
                Now the real task: come up with AI features for a word processor such as Microsoft Word that would
                make you, or people in your line of work, get more done. Start from the problems you just described.
                Skip the obvious (summaries, translation) and small interface tweaks; bold ideas are welcome, even if
                they change what a word processor is. Leave cost, marketing and engineering aside. Pick the best
                ideas and develop them together.

                You may begin.
                """)

world.run(4)

world.broadcast("""
                Very good. Please flesh these ideas out: how would each one fit into the word processor, and what
                exactly could a user do with it? Concrete examples, please.
                """)

world.run(2)

rapporteur = world.get_agent_by_name("Lisa Carter")

rapporteur.listen_and_act("Could you sum up every idea the group proposed? "+
                          "Describe each one in detail and fill in whatever is missing.")

from troupe.extraction import ResultsExtractor

extractor = ResultsExtractor()

results = extractor.extract_results_from_agent(rapporteur, 
                          extraction_objective="The list of ideas the group proposed, one item per idea, each explained. " \
                                               "Include the relevant details, with benefits and drawbacks when mentioned.", 
                          situation="A focus group looking for AI feature ideas for a word processor.")
print(json.dumps(results, indent=2))

# Cost tracking (TinyTroupe: client().pretty_print_cost_stats() and friends)
import troupe.control as control
print(control.status())

# Reduction with a Python rule (TinyTroupe's ResultsReducer)
from troupe.extraction import ResultsReducer

reducer = ResultsReducer()

def communication_rule(focus_agent=None, source_agent=None, target_agent=None, kind=None, event=None, content=None, timestamp=None):
    return [event, source_agent.name if source_agent else "", target_agent.name if target_agent else "", content]

reducer.add_reduction_rule("TALK", communication_rule)
reducer.add_reduction_rule("CONVERSATION", communication_rule)

communications = {agent.name: reducer.reduce_agent_to_dataframe(agent, column_names=["event", "from", "to", "content"])
                  for agent in world.agents}
for name, df in communications.items():
    print(name, len(df), "communications heard or spoken")

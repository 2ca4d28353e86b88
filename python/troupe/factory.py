"""TinyPersonFactory over `coordinator factory`.

Each `generate_person`/`generate_people` call runs `coordinator factory --count N --out
SESSION/factories/NNNN --context TEXT` (or `--population FILE`) and loads the `.agent.json`
files it writes into the session with `agent.create`. Folders are numbered in call order; when
the session is a rerun of an earlier directory, the earlier directory's folder of the same
number is given as `--replay`, so the same people come back with zero model calls.
"""

import json
import os
import textwrap
import warnings

from ._cli import run_subcommand
from .agent import TinyPerson, _session_of
from .errors import TroupeError

_DEFAULT_CONTEXT = "A diverse group of adults from many walks of life."


class TinyPersonFactory:
    """Generates people with the model (TinyTroupe's TinyPersonFactory)."""

    all_factories = {}
    _counter = 0

    def __init__(self, sampling_space_description=None, total_population_size=None,
                 enforce_usage_of_all_dimensions=False, context=None, simulation_id=None,
                 population=None, seed=None, session=None):
        TinyPersonFactory._counter += 1
        self.name = "Factory %d" % TinyPersonFactory._counter
        self.sampling_space_description = sampling_space_description
        self.total_population_size = total_population_size
        self.context = context
        self.population = population
        self.seed = seed
        self._session = session
        self.generated_minibios = []
        self.generated_names = []
        self.folders = []
        TinyPersonFactory.all_factories[self.name] = self

    @staticmethod
    def clear_factories():
        TinyPersonFactory.all_factories = {}

    @staticmethod
    def create_factory_from_demography(demography_description_or_file_path, population_size,
                                       additional_demographic_specification=None, context=None,
                                       session=None):
        """A factory sampling from a TinyTroupe population file (or dict, or description)."""
        d = demography_description_or_file_path
        population = None
        description = None
        if isinstance(d, dict):
            population = d
        elif isinstance(d, (str, os.PathLike)) and os.path.isfile(os.fspath(d)):
            population = os.path.abspath(os.fspath(d))
        else:
            description = str(d)
        ctx = "\n\n".join(x for x in (context, description, additional_demographic_specification)
                          if x)
        return TinyPersonFactory(total_population_size=population_size, context=ctx or None,
                                 population=population, session=session)

    # ------------------------------------------------------------------ generation

    def _context_text(self, particularities):
        parts = [self.context, self.sampling_space_description]
        if particularities:
            parts.append(textwrap.dedent(str(particularities)).strip())
        text = "\n\n".join(p.strip() for p in parts if p and str(p).strip())
        return text

    def _generate(self, count, particularities, post_processing_func=None):
        s = _session_of(self._session)
        self._session = s
        idx = s.next_index("factory")
        folder_name = "%04d" % idx
        root = os.path.join(s.out or os.getcwd(), "factories")
        os.makedirs(root, exist_ok=True)
        out = os.path.join(root, folder_name)
        args = ["factory", "--count", str(int(count)), "--out", out]
        if self.population is not None:
            pop = self.population
            if isinstance(pop, dict):
                pop_path = os.path.join(root, folder_name + ".population.json")
                with open(pop_path, "w", encoding="utf-8") as f:
                    json.dump(pop, f, ensure_ascii=False, indent=2)
                pop = pop_path
            args += ["--population", os.path.abspath(pop)]
            # `--population` and `--context` are exclusive: particularities are not sent then
            if particularities:
                warnings.warn("agent_particularities are ignored with a population file")
        else:
            args += ["--context", self._context_text(particularities) or _DEFAULT_CONTEXT]
        base_seed = self.seed if self.seed is not None else (s.options.get("seed") or 42)
        args += ["--seed", str(int(base_seed) + idx - 1)]
        replay = None
        if s.previous:
            old = os.path.join(s.previous, "factories", folder_name)
            if os.path.exists(os.path.join(old, "factory.tlog")):
                replay = old
        if os.path.exists(os.path.join(out, "factory.tlog")):
            # a resumed session: this generation already ran here; replay it in place
            args.append("--force")
            replay = replay or out
        if replay:
            args += ["--replay", replay]
        rc, err = run_subcommand(s, args, root, "factory")
        manifest = os.path.join(out, "factory.json")
        if not os.path.exists(manifest):
            raise TroupeError("coordinator factory failed (exit %d): %s" % (rc, err))
        with open(manifest, "r", encoding="utf-8") as f:
            info = json.load(f)
        if rc != 0 or info.get("failures"):
            warnings.warn("the factory could not generate every person: %s"
                          % (err or info.get("failures")), RuntimeWarning)
        self.folders.append(out)
        people = []
        for p in info.get("people", []):
            path = os.path.join(out, p.get("file") or (p.get("name") + ".agent.json"))
            if not os.path.exists(path):
                continue
            agent = TinyPerson.load_specification(path, auto_rename_agent=True, session=s)
            if post_processing_func is not None:
                post_processing_func(agent)
            self.generated_names.append(agent.name)
            people.append(agent)
        if not people:
            raise TroupeError("coordinator factory generated nobody: %s" % (err or info.get("failures")))
        return people

    def generate_person(self, agent_particularities=None, temperature=1.0, attempts=10,
                        post_processing_func=None):
        """One new person, as particular as `agent_particularities` says."""
        return self._generate(1, agent_particularities, post_processing_func)[0]

    def generate_people(self, number_of_people=None, agent_particularities=None,
                        temperature=1.0, attempts=10, post_processing_func=None,
                        parallelize=None, verbose=False):
        """`number_of_people` new people (default: the factory's population size)."""
        n = number_of_people if number_of_people is not None else self.total_population_size
        if not n or int(n) < 1:
            raise ValueError("generate_people needs a number of people")
        people = self._generate(int(n), agent_particularities, post_processing_func)
        if verbose:
            for p in people:
                print("Generated person: %s" % p.name)
        return people

    def __repr__(self):
        return "TinyPersonFactory(name=%r)" % self.name

/*  coord_exp -- the `coordinator` subcommands for trusting a simulation, with
 *  TinyTroupe's names:
 *
 *      validate     TinyPersonValidator.validate_person over a run's log
 *      proposition  Proposition.check / .score over a run's log
 *      stats        StatisticalTester over two runs' (or treatments') answers
 *      empirical    SimulationExperimentEmpiricalValidator: simulated
 *                   answers against real ones
 *      story        TinyStory.start_story / continue_story over a run's log
 *      rewrite      TinyEnricher, TinyStyler, Normalizer over a text file
 *      assign       ABRandomizer: people to treatments, seeded and balanced
 *
 *  validate, proposition and story make model calls, recorded in
 *  DIR/validation.tlog, DIR/proposition.tlog or FILE.tlog (story, rewrite) and served
 *  again with --replay (zero calls); stats and empirical make none. Each
 *  prints one JSON document on stdout (story: the new part; rewrite: nothing, the text goes to
 * FILE). Exit 0 success, 1 failure, 2 bad usage or input ("file:line:col: what").
 */
#ifndef COORD_EXP_H
#define COORD_EXP_H

/* argv[0] is the subcommand's name. */
int coord_exp_stats_main(int argc, char **argv);
int coord_exp_empirical_main(int argc, char **argv);
int coord_exp_validate_main(int argc, char **argv);
int coord_exp_proposition_main(int argc, char **argv);
int coord_exp_story_main(int argc, char **argv);
int coord_exp_rewrite_main(int argc, char **argv);
int coord_exp_assign_main(int argc, char **argv);

#endif

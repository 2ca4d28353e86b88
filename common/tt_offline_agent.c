/*  tt_offline_agent -- the scripted persona's turns and consolidations.
 *  (First cut: a fixed valid turn. The full generator replaces it.) */
#include <jansson.h>
#include <stdint.h>

#include "tt_mem.h"
#include "tt_offline.h"

char *
tt_offline_agent_turn(const json_t *messages, uint64_t seed)
{
    (void)messages;
    (void)seed;
    return tt_strdup("{\"actions\":[{\"type\":\"THINK\",\"content\":\"I am thinking.\",\"target\":\"\"},"
                     "{\"type\":\"DONE\",\"content\":\"\",\"target\":\"\"}],"
                     "\"cognitive_state\":{\"goals\":\"\",\"context\":[],\"attention\":\"\","
                     "\"emotions\":\"calm\"}}");
}

char *
tt_offline_consolidation(const json_t *messages, uint64_t seed)
{
    (void)messages;
    (void)seed;
    return tt_strdup("{\"consolidation\":[]}");
}

/* keeps coord-core non-empty until the first module lands */
int agent_placeholder;

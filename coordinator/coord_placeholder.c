/* keeps coord-core non-empty until the first module lands */
int coord_placeholder;

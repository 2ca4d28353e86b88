/* keeps fakellm-core non-empty until the server lands */
int fakellm_placeholder;

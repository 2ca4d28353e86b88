/* placeholder main; replaced as the daemon is written */
#include <stdio.h>
int
main(void)
{
    fprintf(stderr, "not yet\n");
    return 1;
}

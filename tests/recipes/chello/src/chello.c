/* chello: the test channel's compiled linux-64 package. */
#include <stdio.h>

#ifndef CHELLO_VERSION
#error "CHELLO_VERSION must be defined by the build"
#endif

int main(void)
{
    printf("hello from chello %s\n", CHELLO_VERSION);
    return 0;
}

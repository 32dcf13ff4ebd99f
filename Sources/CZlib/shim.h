/* Exposes zlib (zlib1g-dev) to Swift, for gzipped IDX datasets. */
#include <zlib.h>

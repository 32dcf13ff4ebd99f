/* libpng (libpng-dev), for image-folder datasets and `predict --image`. */
#include <png.h>

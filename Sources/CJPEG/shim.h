/* libjpeg-turbo (libjpeg62-turbo-dev), for image-folder datasets and `predict --image`. */
#include <stddef.h>
#include <stdio.h>
#include <jpeglib.h>

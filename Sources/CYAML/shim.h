/* Exposes libyaml's C API (yaml.h from libyaml-dev) to Swift. */
#include <yaml.h>

// placeholder until the unit tests land
#include <doctest/doctest.h>

/* Every kernel of the engine; generated model code includes this one header. */
#ifndef HIL_KERNELS_H
#define HIL_KERNELS_H

#include "hil_conv.h"
#include "hil_data.h"
#include "hil_model.h"

#endif /* HIL_KERNELS_H */

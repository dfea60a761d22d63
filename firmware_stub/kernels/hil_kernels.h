/* Every kernel of the engine; generated model code includes this one header. */
#ifndef HIL_KERNELS_H
#define HIL_KERNELS_H

#include "hil_add.h"
#include "hil_concat.h"
#include "hil_conv.h"
#include "hil_data.h"
#include "hil_depthwise.h"
#include "hil_fully_connected.h"
#include "hil_lookup.h"
#include "hil_mean.h"
#include "hil_model.h"
#include "hil_mul.h"
#include "hil_pad.h"
#include "hil_pool.h"
#include "hil_quantize.h"
#include "hil_softmax.h"
#include "hil_stream.h"

#endif /* HIL_KERNELS_H */

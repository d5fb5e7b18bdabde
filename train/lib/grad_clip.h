// Gradient clipping by the global norm (Pascanu et al. 2013; torch.nn.utils.clip_grad_norm_):
//
//   n = sqrt( Σ_p ||g_p||² ),   g_p <- g_p · c / (n + 1e-6)   when n > c
//
// Returns n (before clipping), which the run log records as grad_norm. c <= 0 only measures.
#pragma once
#include <vector>

#include "tensor/tensor.h"

namespace petl::train {

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

}  // namespace petl::train

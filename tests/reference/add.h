// defines: reference::add
#pragma once

#include <cstdint>

#include "reference/numerics.h"

namespace r50::reference {

template <typename T>
HostTensor<T> add(const HostTensor<T>& a, const HostTensor<T>& b) {
  HostTensor<T> y(a.shape());
  for (std::int64_t i = 0; i < a.numel(); ++i) y[i] = a[i] + b[i];
  return y;
}

}  // namespace r50::reference

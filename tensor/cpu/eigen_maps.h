// Eigen views of one [rows, cols] matrix inside a strided tensor: no copy, either storage order.
#pragma once
#include <Eigen/Core>

namespace petl::cpu {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ColMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
template <class T>
using RowMap = Eigen::Map<RowMatrix<T>, 0, Eigen::OuterStride<>>;
template <class T>
using ConstRowMap = Eigen::Map<const RowMatrix<T>, 0, Eigen::OuterStride<>>;
template <class T>
using ConstColMap = Eigen::Map<const ColMatrix<T>, 0, Eigen::OuterStride<>>;

// A contiguous row-major [rows, cols] block.
template <class T>
ConstRowMap<T> rows_of(const T* p, int64_t rows, int64_t cols) {
  return ConstRowMap<T>(p, rows, cols, Eigen::OuterStride<>(cols));
}
template <class T>
RowMap<T> rows_of(T* p, int64_t rows, int64_t cols) {
  return RowMap<T>(p, rows, cols, Eigen::OuterStride<>(cols));
}

}  // namespace petl::cpu

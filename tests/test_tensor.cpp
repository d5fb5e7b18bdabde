// Tensor layout, views without copies, creation, the caching allocator and the seeded generator.
#include <cmath>

#include "support/tensor_helpers.h"

using namespace petl;

TEST_CASE("tensor: contiguous layout, strides and element access") {
  Tensor t = from_vector(std::vector<double>{0, 1, 2, 3, 4, 5}, {2, 3}, DType::F64);
  CHECK(t.shape() == Shape{2, 3});
  CHECK(t.strides() == Strides{3, 1});
  CHECK(t.is_contiguous());
  CHECK(t.at({1, 2}) == 5.0);
  t.set({0, 1}, 7.0);
  CHECK(t.data<double>()[1] == 7.0);
  CHECK_THROWS_AS(t.data<float>(), Error);
  CHECK(scalar(3.5).item() == 3.5);
  CHECK(scalar(1.0).dim() == 0);
}

TEST_CASE("tensor: views share storage and copy nothing") {
  Tensor t = arange(0, 24, 1, DType::F64);
  Tensor r = kernel::reshape(t, {2, 3, 4});
  CHECK(r.storage() == t.storage());
  Tensor p = kernel::permute(r, {2, 0, 1});
  CHECK(p.storage() == t.storage());
  CHECK(p.shape() == Shape{4, 2, 3});
  CHECK_FALSE(p.is_contiguous());
  CHECK(p.at({3, 1, 2}) == r.at({1, 2, 3}));
  Tensor s = kernel::slice(r, 2, 1, 4, 2);  // columns 1 and 3
  CHECK(s.storage() == t.storage());
  CHECK(s.shape() == Shape{2, 3, 2});
  CHECK(s.at({1, 2, 1}) == 23.0);
  Tensor e = kernel::expand(kernel::slice(r, 0, 0, 1), {5, 3, 4});
  CHECK(e.strides()[0] == 0);
  CHECK(e.at({4, 2, 3}) == 11.0);
  // Writes through a view are visible in the base tensor.
  s.set({0, 0, 0}, -1.0);
  CHECK(t.at({1}) == -1.0);
  // A reshape that no strides express copies; one that they do, does not.
  Tensor pt = kernel::transpose(kernel::reshape(t, {4, 6}), 0, 1);
  CHECK(kernel::reshape(pt, {6, 2, 2}).storage() == t.storage());  // splits one axis: still a view
  Tensor flat = kernel::reshape(pt, {24});
  CHECK(flat.storage() != t.storage());
  CHECK(flat.at({1}) == pt.at({0, 1}));
  CHECK_THROWS_WITH_AS(kernel::view(pt, {24}), doctest::Contains("without a copy"), Error);
  Tensor c = kernel::contiguous(pt);
  CHECK(c.is_contiguous());
  CHECK(c.at({5, 3}) == pt.at({5, 3}));
  CHECK(kernel::contiguous(c).storage() == c.storage());
}

TEST_CASE("tensor: unsqueeze, squeeze, negative axes and -1 in reshape") {
  Tensor t = zeros({2, 3});
  CHECK(kernel::unsqueeze(t, -1).shape() == Shape{2, 3, 1});
  CHECK(kernel::unsqueeze(t, 0).shape() == Shape{1, 2, 3});
  CHECK(kernel::squeeze(kernel::unsqueeze(t, 1), 1).shape() == Shape{2, 3});
  CHECK(kernel::reshape(t, {-1}).shape() == Shape{6});
  CHECK(kernel::reshape(t, {3, -1}).shape() == Shape{3, 2});
  CHECK(kernel::transpose(t, -1, -2).shape() == Shape{3, 2});
}

TEST_CASE("tensor: creation functions") {
  CHECK(zeros({2, 2}).to_vector() == std::vector<double>{0, 0, 0, 0});
  CHECK(ones({3}, DType::F64).to_vector() == std::vector<double>{1, 1, 1});
  CHECK(full({2}, 2.5).to_vector() == std::vector<double>{2.5, 2.5});
  CHECK(arange(2, 11, 3).to_vector() == std::vector<double>{2, 5, 8});
  CHECK(arange(5, 0, -2).to_vector() == std::vector<double>{5, 3, 1});
  CHECK(arange(0, 3).dtype() == DType::I64);
  Tensor u = uniform({1000}, -2.0, 3.0);
  auto v = u.to_vector();
  double lo = 1e9, hi = -1e9, mean_u = 0;
  for (double x : v) lo = std::min(lo, x), hi = std::max(hi, x), mean_u += x / 1000;
  CHECK(lo >= -2.0);
  CHECK(hi <= 3.0);
  CHECK(mean_u == doctest::Approx(0.5).epsilon(0.1));
  Tensor n = randn({20000}, DType::F64);
  auto w = n.to_vector();
  double m = 0, s2 = 0;
  for (double x : w) m += x / double(w.size());
  for (double x : w) s2 += (x - m) * (x - m) / double(w.size());
  CHECK(std::abs(m) < 0.03);
  CHECK(std::sqrt(s2) == doctest::Approx(1.0).epsilon(0.03));
}

TEST_CASE("tensor: a seed reproduces every draw, consecutive draws differ") {
  Generator a(42), b(42);
  Tensor x1 = randn({5}, DType::F32, Device::cpu(), a), x2 = randn({5}, DType::F32, Device::cpu(), a);
  Tensor y1 = randn({5}, DType::F32, Device::cpu(), b);
  CHECK(x1.to_vector() == y1.to_vector());
  CHECK(x1.to_vector() != x2.to_vector());
  manual_seed(7);
  Tensor z1 = uniform({4}, 0, 1);
  manual_seed(7);
  CHECK(uniform({4}, 0, 1).to_vector() == z1.to_vector());
}

TEST_CASE("tensor: dtype conversion and copy_ with broadcasting") {
  Tensor f = from_vector(std::vector<float>{1.5f, -2.0f}, {2});
  Tensor d = kernel::to(f, DType::F64);
  CHECK(d.dtype() == DType::F64);
  CHECK(d.to_vector() == std::vector<double>{1.5, -2.0});
  Tensor i = kernel::to(f, DType::I64);
  CHECK(i.to_vector() == std::vector<double>{1, -2});
  Tensor dst = zeros({3, 2});
  kernel::copy_(dst, f);
  CHECK(dst.to_vector() == std::vector<double>{1.5, -2, 1.5, -2, 1.5, -2});
  Tensor cat = kernel::concat({f, f, from_vector(std::vector<float>{9}, {1})}, 0);
  CHECK(cat.to_vector() == std::vector<double>{1.5, -2, 1.5, -2, 9});
}

TEST_CASE("allocator: a repeated loop is served from the cache") {
  CachingAllocator& alloc = allocator_for(Device::cpu());
  for (int i = 0; i < 3; ++i) {  // the first use of each size may reach malloc
    Tensor warm_a = Tensor::empty({257, 129});
    Tensor warm_b = Tensor::empty({1000});
  }
  const MemoryStats before = alloc.stats();
  for (int i = 0; i < 100; ++i) {
    Tensor a = Tensor::empty({257, 129});
    Tensor b = Tensor::empty({1000});
  }
  const MemoryStats after = alloc.stats();
  CHECK(after.system_allocs == before.system_allocs);
  CHECK(after.cache_hits - before.cache_hits >= 200);
  CHECK(after.bytes_in_use == before.bytes_in_use);
  CHECK(CachingAllocator::round_size(1) == 64);
  CHECK(CachingAllocator::round_size(100000) >= 100000);
  CHECK(CachingAllocator::round_size(100000) <= 100000 * 9 / 8);
  {
    Tensor big = Tensor::empty({1 << 20});
    CHECK(alloc.stats().peak_bytes_in_use >= int64_t(4) << 20);
  }
}

TEST_CASE("tensor: CUDA tensors are refused clearly when there is no CUDA device") {
  if (cuda_available()) PETL_SKIP("a CUDA device is present; tests/test_cuda.cpp covers it");
  CHECK_THROWS_AS(zeros({2}, DType::F32, Device::cuda()), Error);
}

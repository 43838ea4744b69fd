/*
 * The floor of `propagate` on this machine: one thread summing y[ids[e]] over 50 M uniform
 * random ids into a y of m floats, with 8-lane AVX2 gathers (as the kernel does) and with
 * scalar loads. m = 1,000,000 is the benchmark (y = 4 MB: L3); m = 16,384 keeps y in L1.
 *
 *   gcc -O3 -march=native benchmarks/profile/gather.c -o /tmp/gather && /tmp/gather 1000000
 */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  size_t n = 50000000, m = argc > 1 ? (size_t)atol(argv[1]) : 1000000;
  uint32_t *a = malloc(n * 4);
  float *y = malloc(4 * m);
  for (size_t i = 0; i < m; i++) y[i] = i * 1e-6f;
  uint64_t s = 88172645463325252ull;
  for (size_t i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >> 7; s ^= s << 17;
    a[i] = s % m;
  }
  for (int r = 0; r < 3; r++) {
    double t0 = now();
    __m256 acc = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps();
    for (size_t i = 0; i < n; i += 16) {
      acc = _mm256_add_ps(acc, _mm256_i32gather_ps(y, _mm256_loadu_si256((void *)(a + i)), 4));
      acc2 = _mm256_add_ps(acc2, _mm256_i32gather_ps(y, _mm256_loadu_si256((void *)(a + i + 8)), 4));
    }
    double t1 = now();
    float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (size_t i = 0; i < n; i += 4) {
      a0 += y[a[i]]; a1 += y[a[i + 1]]; a2 += y[a[i + 2]]; a3 += y[a[i + 3]];
    }
    double t2 = now();
    acc = _mm256_add_ps(acc, acc2);
    printf("y %zu floats: 50 M gathers %.1f ms, scalar %.1f ms (%g %g)\n", m, (t1 - t0) * 1e3,
           (t2 - t1) * 1e3, acc[0], a0 + a1 + a2 + a3);
  }
  return 0;
}

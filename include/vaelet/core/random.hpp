/// \file
/// vaelet/core/random.hpp — the one explicit, seedable random number generator.
///
///     vaelet::Rng rng(42);
///     vaelet::Matrix<float> eps(128, 20);
///     rng.fill_normal(eps);                  // ε ~ N(0, I)
///
/// xoshiro256++ (Blackman & Vigna 2019) seeded through splitmix64, normals by Box–Muller.
/// Written out here rather than taken from `<random>` so that a seed gives the same numbers on every
/// standard library, and so that the whole state (four words plus a cached normal) fits in a checkpoint.
#pragma once

#include "vaelet/core/matrix.hpp"

#include <array>
#include <cmath>
#include <cstdint>

namespace vaelet {

/// The generator every random draw in vaelet comes from, passed in explicitly (never a global): xoshiro256++,
/// uniforms, integers without bias, and normals. The same seed gives the same stream on every platform. A plain value:
/// a copy continues with the same numbers as the original, so pass it by reference to share one stream.
class Rng {
public:
    /// Everything needed to resume the stream exactly: the generator words and the spare normal.
    struct State {
        std::array<std::uint64_t, 4> s{};  ///< the four xoshiro256++ words
        bool has_spare = false;            ///< normal() holds the second value of its last Box–Muller pair
        double spare = 0.0;                ///< that value, returned by the next normal()
    };

    /// A generator at the start of `seed`'s stream.
    explicit Rng(std::uint64_t seed = 1) { seed_with(seed); }

    /// Restarts at the start of `seed`'s stream, as a new Rng(seed) would (any spare normal is dropped).
    void seed_with(std::uint64_t seed) {
        std::uint64_t x = seed;
        for (auto& word : state_.s) word = splitmix64(x);
        state_.has_spare = false;
        state_.spare = 0.0;
    }

    /// 64 random bits.
    std::uint64_t next() {
        auto& s = state_.s;
        const std::uint64_t result = rotl(s[0] + s[3], 23) + s[0];
        const std::uint64_t t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        return result;
    }

    /// Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    /// Uniform in [lo, hi).
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

    /// Uniform integer in [0, n), without modulo bias (Lemire's method).
    std::uint64_t below(std::uint64_t n) {
        if (n == 0) return 0;
        const std::uint64_t threshold = (0 - n) % n;
        for (;;) {
            const std::uint64_t r = next();
            if (r >= threshold) return r % n;
        }
    }

    /// Standard normal N(0, 1).
    double normal() {
        if (state_.has_spare) {
            state_.has_spare = false;
            return state_.spare;
        }
        // 1 - uniform() lies in (0, 1], so the log is finite.
        const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform()));
        const double angle = 2.0 * 3.14159265358979323846 * uniform();
        state_.spare = radius * std::sin(angle);
        state_.has_spare = true;
        return radius * std::cos(angle);
    }

    /// Moves the stream past the next `n` normal() draws, as if they were made. Data-parallel training uses it: a
    /// process draws the noise of its own rows of a batch and skips the rest, so every process ends where one
    /// process drawing the whole batch would. Each Box–Muller pair takes two uniforms, so a skipped pair costs two
    /// next() calls and no logarithm or sine.
    void skip_normals(std::uint64_t n) {
        if (n > 0 && state_.has_spare) {
            state_.has_spare = false;
            --n;
        }
        for (; n >= 2; n -= 2) {
            next();
            next();
        }
        if (n == 1) normal();  // the first of a pair; its partner stays cached as the spare
    }

    /// Fills `m` with independent N(0, 1) draws, row by row.
    template <class Derived>
    void fill_normal(Eigen::DenseBase<Derived>& m) {
        for (Index i = 0; i < m.rows(); ++i)
            for (Index j = 0; j < m.cols(); ++j) m(i, j) = static_cast<typename Derived::Scalar>(normal());
    }

    /// Fills `m` with independent U[lo, hi) draws, row by row.
    template <class Derived>
    void fill_uniform(Eigen::DenseBase<Derived>& m, double lo, double hi) {
        for (Index i = 0; i < m.rows(); ++i)
            for (Index j = 0; j < m.cols(); ++j) m(i, j) = static_cast<typename Derived::Scalar>(uniform(lo, hi));
    }

    /// The whole state, for a checkpoint.
    const State& state() const { return state_; }
    /// Resumes from a saved state: the next draws are the ones that followed when it was saved.
    void set_state(const State& s) { state_ = s; }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    static std::uint64_t splitmix64(std::uint64_t& x) {
        std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    State state_;
};

}  // namespace vaelet

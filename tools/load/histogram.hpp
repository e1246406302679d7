// The latency histogram: log-linear buckets as HdrHistogram has them, 128 per power of two, so
// every bucket is at most 1/128 of its lowest value wide and a reported value (the bucket's
// middle, kept within the recorded minimum and maximum) is within 0.4 % of the true one.
// Fixed memory (35 KiB), one per thread, merged at the end. Knows nothing of clocks or units.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace uring_okay::load {

class Histogram {
public:
    static constexpr unsigned sub_bits = 7;  // 2^7 = 128 buckets per power of two
    static constexpr std::uint64_t sub_count = std::uint64_t(1) << sub_bits;
    static constexpr unsigned top_bit = 40;  // 2^41 ns (36 min): larger values share the top
    static constexpr std::uint64_t value_ceiling = (std::uint64_t(2) << top_bit) - 1;
    static constexpr std::size_t bucket_count = (top_bit - sub_bits + 2) * sub_count;

    // Values below 128 have a bucket each; above, bucket k*128 + s covers the 1/128 of
    // [2^(k+6), 2^(k+7)) numbered s.
    [[nodiscard]] static constexpr std::size_t index(std::uint64_t value) noexcept {
        if (value > value_ceiling) value = value_ceiling;
        if (value < sub_count) return std::size_t(value);
        const unsigned high_bit = unsigned(std::bit_width(value)) - 1;  // >= sub_bits
        const unsigned shift = high_bit - sub_bits;
        return std::size_t(high_bit - sub_bits + 1) * sub_count +
               std::size_t((value >> shift) - sub_count);
    }
    [[nodiscard]] static constexpr std::uint64_t lowest(std::size_t bucket) noexcept {
        if (bucket < sub_count) return bucket;
        const unsigned shift = unsigned(bucket / sub_count) - 1;
        return (sub_count + bucket % sub_count) << shift;
    }
    [[nodiscard]] static constexpr std::uint64_t width(std::size_t bucket) noexcept {
        return bucket < sub_count ? 1 : std::uint64_t(1) << (bucket / sub_count - 1);
    }

    void record(std::uint64_t value) noexcept {
        ++counts_[index(value)];
        ++count_;
        sum_ += value;
        if (value > max_) max_ = value;
        if (value < min_) min_ = value;
    }
    void merge(const Histogram& other) noexcept;
    void clear() noexcept { *this = Histogram{}; }

    // The value at or below which `percent` of the recorded values lie (0 when empty).
    [[nodiscard]] std::uint64_t at_percentile(double percent) const noexcept;
    [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
    [[nodiscard]] std::uint64_t max() const noexcept { return count_ ? max_ : 0; }
    [[nodiscard]] std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
    [[nodiscard]] double mean() const noexcept {
        return count_ ? double(sum_) / double(count_) : 0;
    }
    [[nodiscard]] double stdev() const noexcept;

private:
    std::array<std::uint64_t, bucket_count> counts_{};
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t max_ = 0;
    std::uint64_t min_ = UINT64_MAX;
};

static_assert(Histogram::index(Histogram::value_ceiling) == Histogram::bucket_count - 1);
static_assert(Histogram::lowest(Histogram::index(1'000'000)) <= 1'000'000);
static_assert(Histogram::lowest(Histogram::index(1'000'000)) +
                  Histogram::width(Histogram::index(1'000'000)) >
              1'000'000);

}  // namespace uring_okay::load

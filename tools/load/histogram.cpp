// Reading the histogram: percentiles walk the buckets once; the standard deviation takes each
// bucket's middle for its values. Both run once per report, never per request.
#include "histogram.hpp"

#include <cmath>

namespace uring_okay::load {

void Histogram::merge(const Histogram& other) noexcept {
    for (std::size_t i = 0; i < bucket_count; ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    sum_ += other.sum_;
    if (other.max_ > max_) max_ = other.max_;
    if (other.min_ < min_) min_ = other.min_;
}

std::uint64_t Histogram::at_percentile(double percent) const noexcept {
    if (count_ == 0) return 0;
    if (percent >= 100) return max_;
    // The rank of the value wanted, 1-based: at least `percent` of all lie at or below it.
    auto rank = std::uint64_t(std::ceil(percent / 100.0 * double(count_)));
    if (rank == 0) rank = 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        seen += counts_[i];
        if (seen < rank) continue;
        const std::uint64_t middle = lowest(i) + (width(i) - 1) / 2;
        if (middle > max_) return max_;
        if (middle < min_) return min_;
        return middle;
    }
    return max_;
}

double Histogram::stdev() const noexcept {
    if (count_ < 2) return 0;
    const double average = mean();
    double squares = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        if (counts_[i] == 0) continue;
        const double deviation = double(lowest(i)) + double(width(i) - 1) / 2 - average;
        squares += deviation * deviation * double(counts_[i]);
    }
    return std::sqrt(squares / double(count_));
}

}  // namespace uring_okay::load

// The fixed connection table both engines use: allocated once at start-up, a free list, and a
// generation per slot so a completion for a connection that closed never finds its successor.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <new>

#include "uring_okay/assert.hpp"
#include "uring_okay/connection.hpp"

namespace uring_okay {

struct Slot {
    Connection connection;
    std::uint32_t generation = 0;  // bumped at each release; 24 bits travel in user_data
    std::uint32_t next_free = 0;
    std::uint64_t linger_started_ms = 0;  // our side shut: the FIN is awaited until + linger_ms
    std::uint8_t engine_state = 0;  // the engine's own bits (what it has in flight)
    bool used = false;
    std::uint32_t index = 0;  // its place in the table (in what was padding: no division)
};

class Slots {
public:
    Slots() = default;
    Slots(const Slots&) = delete;
    Slots& operator=(const Slots&) = delete;
    ~Slots() { std::free(slots_); }

    // All the memory the table will ever use, reserved now. A slot is built the first time it
    // is needed, so start-up writes nothing and untouched pages cost no memory.
    [[nodiscard]] bool allocate(const Limits& limits, const Routes* routes) noexcept {
        capacity_ = limits.connections_max;
        limits_ = &limits;
        routes_ = routes;
        slots_ = static_cast<Slot*>(std::calloc(capacity_, sizeof(Slot)));
        first_free_ = capacity_;  // none released yet: new slots come from the high-water mark
        return slots_ != nullptr;
    }

    // A free slot holding a new connection, or null when the table is full. The connection is
    // built afresh each time: nothing of the last client's is left in it.
    [[nodiscard]] Slot* acquire() noexcept {
        std::uint32_t index = first_free_;
        std::uint32_t generation = 0;
        if (index != capacity_) {
            first_free_ = slots_[index].next_free;
            generation = slots_[index].generation;  // release bumped it: old completions miss
        } else if (high_water_ < capacity_) {
            index = high_water_++;
        } else {
            return nullptr;
        }
        ++used_;
        return new (&slots_[index]) Slot{.connection = Connection{*limits_, routes_},
                                         .generation = generation,
                                         .used = true,
                                         .index = index};
    }

    void release(Slot& slot) noexcept {
        UO_ASSERT(slot.used);
        slot.used = false;
        slot.generation = (slot.generation + 1) & generation_mask;
        slot.next_free = first_free_;
        first_free_ = slot.index;
        --used_;
    }

    // The slot a completion names, or null when that connection is gone.
    [[nodiscard]] Slot* find(std::uint32_t index, std::uint32_t generation) noexcept {
        if (index >= capacity_) return nullptr;
        Slot& slot = slots_[index];
        return slot.used && slot.generation == generation ? &slot : nullptr;
    }

    [[nodiscard]] std::uint32_t used() const noexcept { return used_; }

    // Every open connection; bounded by the highest slot ever used.
    template <typename Visit>
    void for_each_used(Visit&& visit) noexcept {
        for (std::uint32_t i = 0; i < high_water_; ++i) {
            if (slots_[i].used) visit(slots_[i]);
        }
    }

    static constexpr std::uint32_t generation_mask = (1u << 24) - 1;

private:
    Slot* slots_ = nullptr;
    const Limits* limits_ = nullptr;
    const Routes* routes_ = nullptr;
    std::uint32_t capacity_ = 0;
    std::uint32_t first_free_ = 0;
    std::uint32_t used_ = 0;
    std::uint32_t high_water_ = 0;
};

}  // namespace uring_okay

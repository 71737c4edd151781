// A Communicator over threads of one process, for testing data-parallel training without MPI: P threads, one
// ThreadCommunicator each, meet at a barrier in every call. Sums add the processes' values in rank order, so a
// run is deterministic.
#pragma once

#include "vaelet/parallel/communicator.hpp"

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <vector>

namespace vaelet::testing {

/// What the threads of one group share.
class ThreadGroup {
public:
    explicit ThreadGroup(int size) : size_(size), slots_(std::size_t(size)) {}
    int size() const { return size_; }

    /// Publishes this thread's buffer and waits until every thread has published its own.
    void publish(int rank, void* data) {
        slots_[std::size_t(rank)] = data;
        barrier();
    }
    void* slot(int rank) const { return slots_[std::size_t(rank)]; }

    void barrier() {
        std::unique_lock<std::mutex> lock(mutex_);
        const long generation = generation_;
        if (++arrived_ == size_) {
            arrived_ = 0;
            ++generation_;
            all_arrived_.notify_all();
        } else {
            all_arrived_.wait(lock, [&] { return generation_ != generation; });
        }
    }

private:
    int size_;
    std::vector<void*> slots_;
    std::mutex mutex_;
    std::condition_variable all_arrived_;
    int arrived_ = 0;
    long generation_ = 0;
};

class ThreadCommunicator final : public Communicator {
public:
    ThreadCommunicator(ThreadGroup& group, int rank) : group_(group), rank_(rank) {}

    int rank() const override { return rank_; }
    int size() const override { return group_.size(); }
    void sum(float* values, std::size_t n) override { add(values, n); }
    void sum(double* values, std::size_t n) override { add(values, n); }

    void broadcast(void* data, std::size_t bytes, int root) override {
        group_.publish(rank_, data);
        if (rank_ != root) std::memcpy(data, group_.slot(root), bytes);
        group_.barrier();  // the root's buffer is read by all before anyone goes on
    }

    long sums = 0;  // calls to sum(), to count the all-reduces

private:
    template <class V>
    void add(V* values, std::size_t n) {
        ++sums;
        group_.publish(rank_, values);
        std::vector<V> total(n, V(0));
        for (int r = 0; r < size(); ++r) {
            const V* theirs = static_cast<const V*>(group_.slot(r));
            for (std::size_t i = 0; i < n; ++i) total[i] += theirs[i];
        }
        group_.barrier();  // everyone has read every buffer: now each may overwrite its own
        std::memcpy(values, total.data(), n * sizeof(V));
        group_.barrier();
    }

    ThreadGroup& group_;
    int rank_;
};

}  // namespace vaelet::testing

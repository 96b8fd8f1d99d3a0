#pragma once

#include "metrics/Registry.hpp"
#include "store/ContactStore.hpp"

namespace callrec::store {

// The state store's commits, writes, failures, queue and sync times, read
// from Stats() at each scrape (the store outlives the registry's scrapes).
void RegisterStoreMetrics(metrics::Registry& registry, const ContactStore& store);

}  // namespace callrec::store

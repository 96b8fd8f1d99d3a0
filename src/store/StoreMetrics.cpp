#include "store/StoreMetrics.hpp"

namespace callrec::store {

void RegisterStoreMetrics(metrics::Registry& registry, const ContactStore& store) {
  registry.AddCounter("callrec_store_commits_total",
                      "Transactions committed by the state store (durable once the next sync "
                      "returns).",
                      [&store] { return metrics::Number(store.Stats().commits); });
  registry.AddCounter("callrec_store_writes_total", "Writes made durable (several per commit).",
                      [&store] { return metrics::Number(store.Stats().writes); });
  registry.AddCounter("callrec_store_read_errors_total",
                      "Reads of the state store that failed (the request that asked was "
                      "answered 500).",
                      [&store] { return metrics::Number(store.Stats().read_failures); });
  registry.AddCounter("callrec_store_write_failures_total", "Writes that could not be stored.",
                      [&store] { return metrics::Number(store.Stats().failures); });
  registry.AddGauge("callrec_store_queue_depth", "Writes waiting for the next commit.",
                    [&store] { return metrics::Number(store.Stats().queued); });
  registry.AddCounter("callrec_store_commit_seconds_total",
                      "Time spent in transactions (writing the log, not syncing it).",
                      [&store] { return metrics::Number(store.Stats().commit_seconds_total); });
  registry.AddCounter("callrec_store_syncs_total",
                      "Syncs of the write-ahead log; each makes every commit before it durable.",
                      [&store] { return metrics::Number(store.Stats().syncs); });
  registry.AddCounter("callrec_store_sync_seconds_total", "Time spent syncing the write-ahead log.",
                      [&store] { return metrics::Number(store.Stats().sync_seconds_total); });
}

}  // namespace callrec::store

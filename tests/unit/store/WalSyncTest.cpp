// The log is synced before a write is reported durable: WalSync on its own, and the
// store, whose commits no longer sync inside SQLite. This binary wraps fdatasync()
// to count the syncs that returned and, when a test asks, to make them slow.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "store/SqliteContactStore.hpp"
#include "store/WalSync.hpp"

namespace {

std::atomic<int> started_syncs{0};
std::atomic<int> completed_syncs{0};
std::atomic<int> sync_delay_ms{0};

}  // namespace

// Every fdatasync() of this program, SQLite's and WalSync's.
extern "C" int fdatasync(int fd) {
  using Real = int (*)(int);
  static const Real real = reinterpret_cast<Real>(dlsym(RTLD_NEXT, "fdatasync"));
  started_syncs += 1;
  if (const int delay = sync_delay_ms.load(); delay > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
  }
  const int rc = real(fd);
  if (rc == 0) completed_syncs += 1;
  return rc;
}

namespace callrec::store {
namespace {

class WalSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("callrec-wal-sync-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    sync_delay_ms = 0;
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
};

struct Reported {
  std::mutex mutex;
  int ok = 0;
  int failed = 0;
  int syncs = 0;
  std::string error;
};

WalSync::Report Recorder(Reported& reported) {
  return [&reported](WalSync::Callbacks& covered, const std::string& error, double) {
    {
      std::lock_guard lock(reported.mutex);
      reported.syncs += 1;
    }
    for (auto& callback : covered) callback(error.empty(), error);
  };
}

WalSync::Callbacks Count(Reported& reported, int how_many) {
  WalSync::Callbacks callbacks;
  for (int i = 0; i < how_many; ++i) {
    callbacks.push_back([&reported](bool ok, const std::string& error) {
      std::lock_guard lock(reported.mutex);
      (ok ? reported.ok : reported.failed) += 1;
      if (!ok) reported.error = error;
    });
  }
  return callbacks;
}

TEST_F(WalSyncTest, ReportsEveryCommitAfterASyncAndCloseSyncsTheLast) {
  std::ofstream(dir_ / "db-wal") << "frames";
  Reported reported;
  {
    WalSync sync(dir_ / "db-wal", Recorder(reported));
    sync_delay_ms = 20;  // the last two commits are handed over while a sync runs
    const int before = started_syncs.load();
    sync.Submit(Count(reported, 3));
    while (started_syncs.load() == before) std::this_thread::yield();
    sync.Submit(Count(reported, 2));
    sync.Submit(Count(reported, 4));
    sync.Close();
    EXPECT_EQ(sync.Pending(), 0u);
  }
  EXPECT_EQ(reported.ok, 9);
  EXPECT_EQ(reported.failed, 0);
  // The first sync covers the first commit; the next covers both made while it ran.
  EXPECT_EQ(reported.syncs, 2);
}

TEST_F(WalSyncTest, AFailedSyncFailsWhatItCovered) {
  // fdatasync() refuses a character device (EINVAL), as it would report an I/O error.
  Reported reported;
  WalSync sync("/dev/null", Recorder(reported));
  sync.Submit(Count(reported, 2));
  sync.Close();
  EXPECT_EQ(reported.ok, 0);
  EXPECT_EQ(reported.failed, 2);
  EXPECT_NE(reported.error.find("cannot sync the write-ahead log"), std::string::npos)
      << reported.error;
}

TEST_F(WalSyncTest, AMissingLogIsRefusedByName) {
  try {
    WalSync sync(dir_ / "absent-wal", [](WalSync::Callbacks&, const std::string&, double) {});
    FAIL() << "opened a log that does not exist";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("absent-wal"), std::string::npos) << error.what();
  }
}

core::Contact NewContact(const std::string& id) {
  core::Contact contact;
  contact.instance_id = "local";
  contact.contact_id = id;
  contact.initial_contact_id = id;
  contact.codec = "PCMU";
  return contact;
}

// SQLite commits without syncing (synchronous=NORMAL): a write may be reported only
// once a sync of the log that began after its commit has returned. With every sync
// slowed to 50 ms, a write reported at its commit would be seen before any sync
// returned.
TEST_F(WalSyncTest, TheStoreReportsAWriteOnlyAfterTheLogSyncReturned) {
  SqliteContactStore store(dir_ / "callrec.db");
  sync_delay_ms = 50;
  for (int i = 0; i < 3; ++i) {
    const int before = completed_syncs.load();
    const auto queued = std::chrono::steady_clock::now();
    std::promise<std::pair<bool, int>> reported;
    ASSERT_TRUE(store.Write(ContactWrite{NewContact("c-" + std::to_string(i)), std::nullopt},
                            [&reported](bool ok, const std::string&) {
                              reported.set_value({ok, completed_syncs.load()});
                            }));
    const auto [ok, syncs_then] = reported.get_future().get();
    EXPECT_TRUE(ok);
    EXPECT_GT(syncs_then, before) << "write " << i << " was reported before any sync returned";
    EXPECT_GE(std::chrono::steady_clock::now() - queued, std::chrono::milliseconds(50));
  }
  sync_delay_ms = 0;
  const StoreStats stats = store.Stats();
  EXPECT_EQ(stats.commits, 3u);
  EXPECT_GE(stats.syncs, 3u);
  EXPECT_GT(stats.sync_seconds_total, 0.15);
  store.Close();
  // And it is there after the store is opened again.
  SqliteContactStore reopened(dir_ / "callrec.db");
  EXPECT_EQ(reopened.LoadContacts().size(), 3u);
}

}  // namespace
}  // namespace callrec::store

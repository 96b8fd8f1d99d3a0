#pragma once

namespace callrec::upload {

// Lowers the calling thread's CPU priority (nice 10; Linux sets it per
// thread): the uploader's and the S3 reader's hashing, peaks and HTTP work
// yield the cores to the media and HTTP threads when they are short. False if
// the kernel refused (the thread runs on at its priority).
bool YieldToMediaThreads();

}  // namespace callrec::upload

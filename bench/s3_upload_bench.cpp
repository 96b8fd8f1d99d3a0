// Uploads one file to S3 the way the recording uploader does (src/upload: a
// single PUT up to the threshold, else parts one after another, each with
// Content-MD5 and x-amz-checksum-sha256, then a HEAD), --rounds times, and
// prints the throughput. bench/s3/upload_bench.py runs it against a real Ceph
// RGW beside `aws s3 cp` of the same file.
#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "s3/S3Client.hpp"

int main(int argc, char** argv) {
  using namespace callrec;
  std::string endpoint, bucket, key = "bench/object", file, access_key, secret;
  std::uint64_t part_size = 8u << 20, threshold = 16u << 20;
  int rounds = 3;
  CLI::App app{"s3_upload_bench: the recording uploader's S3 requests, timed"};
  app.add_option("--endpoint", endpoint)->required();
  app.add_option("--bucket", bucket)->required();
  app.add_option("--file", file)->required();
  app.add_option("--access-key", access_key)->required();
  app.add_option("--secret", secret)->required();
  app.add_option("--key", key);
  app.add_option("--part-size", part_size)->capture_default_str();
  app.add_option("--multipart-threshold", threshold)->capture_default_str();
  app.add_option("--rounds", rounds)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::ifstream in(file, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string data = buffer.str();
  s3::S3Settings settings;
  settings.endpoint = endpoint;
  settings.path_style = true;
  settings.credentials = {access_key, secret, ""};
  const s3::S3Client client(settings);
  const s3::ObjectHeaders headers{"audio/wav", {}};
  double best = 0;
  for (int round = 0; round < rounds; ++round) {
    const auto start = std::chrono::steady_clock::now();
    if (data.size() <= threshold) {
      auto put = client.PutObject(bucket, key, data, headers);
      if (!put) return std::cerr << put.error().Describe() << "\n", 1;
    } else {
      auto id = client.CreateMultipartUpload(bucket, key, headers);
      if (!id) return std::cerr << id.error().Describe() << "\n", 1;
      std::vector<s3::UploadedPart> parts;
      int number = 1;
      for (std::uint64_t offset = 0; offset < data.size(); offset += part_size, ++number) {
        const std::string_view part = std::string_view(data).substr(
            offset, std::min<std::uint64_t>(part_size, data.size() - offset));
        auto etag = client.UploadPart(bucket, key, id.value(), number, part);
        if (!etag) return std::cerr << etag.error().Describe() << "\n", 1;
        parts.push_back({number, etag.value(), part.size()});
      }
      auto done = client.CompleteMultipartUpload(bucket, key, id.value(), parts);
      if (!done) return std::cerr << done.error().Describe() << "\n", 1;
    }
    auto head = client.HeadObject(bucket, key);
    if (!head || head->size != data.size()) return std::cerr << "HEAD mismatch\n", 1;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double mbps = static_cast<double>(data.size()) / 1e6 / seconds;
    best = std::max(best, mbps);
    std::cout << "round " << round + 1 << ": " << data.size() << " bytes in " << seconds
              << " s = " << mbps << " MB/s\n";
  }
  std::cout << "best " << best << " MB/s\n";
  return 0;
}

// libav at the edges of the media library and of the engines that use it: errors as exceptions,
// owning pointers, and a YuvImage as an AVFrame.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include "media.hpp"

namespace framehouse::media {

std::string av_message(int code);
// Throws std::runtime_error("<what>: <libav's message>") when code < 0.
void check(int code, const char* what);

struct FrameDeleter {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
struct PacketDeleter {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
struct CodecDeleter {
  void operator()(AVCodecContext* context) const { avcodec_free_context(&context); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecDeleter>;

FramePtr make_frame(const YuvImage& image, AVPixelFormat format);

}  // namespace framehouse::media

#include "encoder.hpp"

#include <algorithm>
#include <stdexcept>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

namespace gen_procedural {
namespace {

std::string av_message(int code) {
  char buffer[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, buffer, sizeof buffer);
  return buffer;
}

void check(int code, const char* what) {
  if (code < 0) throw std::runtime_error(std::string(what) + ": " + av_message(code));
}

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

FramePtr make_frame(const YuvImage& image, AVPixelFormat format) {
  FramePtr frame(av_frame_alloc());
  frame->format = format;
  frame->width = image.width;
  frame->height = image.height;
  check(av_frame_get_buffer(frame.get(), 0), "allocate frame");
  const std::uint8_t* planes[3] = {image.y.data(), image.u.data(), image.v.data()};
  const int widths[3] = {image.width, image.width / 2, image.width / 2};
  const int heights[3] = {image.height, image.height / 2, image.height / 2};
  for (int p = 0; p < 3; ++p) {
    av_image_copy_plane(frame->data[p], frame->linesize[p], planes[p], widths[p], widths[p], heights[p]);
  }
  return frame;
}

}  // namespace

struct Mp4Writer::State {
  AVFormatContext* format = nullptr;
  CodecPtr codec;
  AVStream* stream = nullptr;
  PacketPtr packet{av_packet_alloc()};
  std::int64_t next_pts = 0;
  bool header_written = false;

  void drain(bool flushing) {
    for (;;) {
      const int received = avcodec_receive_packet(codec.get(), packet.get());
      if (received == AVERROR(EAGAIN) || (flushing && received == AVERROR_EOF)) return;
      check(received, "encode");
      av_packet_rescale_ts(packet.get(), codec->time_base, stream->time_base);
      packet->stream_index = stream->index;
      check(av_interleaved_write_frame(format, packet.get()), "write packet");
    }
  }
};

Mp4Writer::Mp4Writer(const std::string& path, int width, int height, const EncoderSettings& settings)
    : state_(std::make_unique<State>()) {
  check(avformat_alloc_output_context2(&state_->format, nullptr, "mp4", path.c_str()), "create mp4 muxer");
  state_->format->flags |= AVFMT_FLAG_BITEXACT;
  const AVCodec* h264 = avcodec_find_encoder_by_name("libx264");
  if (h264 == nullptr) throw std::runtime_error("libavcodec has no libx264 encoder");
  state_->codec.reset(avcodec_alloc_context3(h264));
  AVCodecContext* codec = state_->codec.get();
  codec->width = width;
  codec->height = height;
  codec->pix_fmt = AV_PIX_FMT_YUV420P;
  codec->time_base = AVRational{1, settings.fps};
  codec->framerate = AVRational{settings.fps, 1};
  codec->gop_size = settings.fps * 2;
  codec->flags |= AV_CODEC_FLAG_BITEXACT;
  if (state_->format->oformat->flags & AVFMT_GLOBALHEADER) codec->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  av_opt_set(codec->priv_data, "preset", settings.preset.c_str(), 0);
  av_opt_set_int(codec->priv_data, "crf", settings.crf, 0);
  check(avcodec_open2(codec, h264, nullptr), "open libx264");
  state_->stream = avformat_new_stream(state_->format, nullptr);
  state_->stream->time_base = codec->time_base;
  check(avcodec_parameters_from_context(state_->stream->codecpar, codec), "stream parameters");
  check(avio_open(&state_->format->pb, path.c_str(), AVIO_FLAG_WRITE), "open output file");
  AVDictionary* options = nullptr;
  av_dict_set(&options, "movflags", "+faststart", 0);
  const int written = avformat_write_header(state_->format, &options);
  av_dict_free(&options);
  check(written, "write mp4 header");
  state_->header_written = true;
}

Mp4Writer::~Mp4Writer() {
  if (state_->format != nullptr) {
    if (state_->format->pb != nullptr) avio_closep(&state_->format->pb);
    avformat_free_context(state_->format);
  }
}

void Mp4Writer::write(const YuvImage& image) {
  FramePtr frame = make_frame(image, AV_PIX_FMT_YUV420P);
  frame->pts = state_->next_pts++;
  check(avcodec_send_frame(state_->codec.get(), frame.get()), "encode frame");
  state_->drain(false);
}

void Mp4Writer::finish() {
  check(avcodec_send_frame(state_->codec.get(), nullptr), "flush encoder");
  state_->drain(true);
  check(av_write_trailer(state_->format), "write mp4 index");
}

std::vector<std::uint8_t> encode_jpeg(const YuvImage& image) {
  const AVCodec* mjpeg = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  if (mjpeg == nullptr) throw std::runtime_error("libavcodec has no JPEG encoder");
  CodecPtr codec(avcodec_alloc_context3(mjpeg));
  codec->width = image.width;
  codec->height = image.height;
  codec->pix_fmt = AV_PIX_FMT_YUVJ420P;
  codec->time_base = AVRational{1, 25};
  codec->flags |= AV_CODEC_FLAG_BITEXACT | AV_CODEC_FLAG_QSCALE;
  codec->global_quality = FF_QP2LAMBDA * 4;
  check(avcodec_open2(codec.get(), mjpeg, nullptr), "open JPEG encoder");
  FramePtr frame = make_frame(image, AV_PIX_FMT_YUVJ420P);
  frame->pts = 0;
  frame->quality = codec->global_quality;
  check(avcodec_send_frame(codec.get(), frame.get()), "encode thumbnail");
  check(avcodec_send_frame(codec.get(), nullptr), "flush thumbnail");
  PacketPtr packet(av_packet_alloc());
  check(avcodec_receive_packet(codec.get(), packet.get()), "encode thumbnail");
  return std::vector<std::uint8_t>(packet->data, packet->data + packet->size);
}

YuvImage decode_image(const std::string& path, int max_width, int max_height) {
  AVFormatContext* input = nullptr;
  check(avformat_open_input(&input, path.c_str(), nullptr, nullptr), "read input image");
  std::unique_ptr<AVFormatContext, void (*)(AVFormatContext*)> input_guard(input, [](AVFormatContext* context) {
    avformat_close_input(&context);
  });
  check(avformat_find_stream_info(input, nullptr), "inspect input image");
  const AVCodec* decoder = nullptr;
  const int stream = av_find_best_stream(input, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
  check(stream, "find a picture in the input image");
  CodecPtr codec(avcodec_alloc_context3(decoder));
  check(avcodec_parameters_to_context(codec.get(), input->streams[stream]->codecpar), "input image parameters");
  check(avcodec_open2(codec.get(), decoder, nullptr), "open image decoder");
  PacketPtr packet(av_packet_alloc());
  FramePtr frame(av_frame_alloc());
  bool decoded = false;
  while (!decoded && av_read_frame(input, packet.get()) >= 0) {
    if (packet->stream_index == stream && avcodec_send_packet(codec.get(), packet.get()) >= 0) {
      decoded = avcodec_receive_frame(codec.get(), frame.get()) >= 0;
    }
    av_packet_unref(packet.get());
  }
  if (!decoded) {
    avcodec_send_packet(codec.get(), nullptr);
    decoded = avcodec_receive_frame(codec.get(), frame.get()) >= 0;
  }
  if (!decoded) throw std::runtime_error("the input image could not be decoded");

  // Fit inside the bound, keep the aspect, even dimensions for 4:2:0.
  double scale = std::min({1.0, double(max_width) / frame->width, double(max_height) / frame->height});
  const int width = std::max(2, static_cast<int>(frame->width * scale) & ~1);
  const int height = std::max(2, static_cast<int>(frame->height * scale) & ~1);
  SwsContext* sws = sws_getContext(frame->width, frame->height, static_cast<AVPixelFormat>(frame->format), width, height,
                                   AV_PIX_FMT_YUV420P, SWS_BICUBIC | SWS_ACCURATE_RND | SWS_BITEXACT, nullptr, nullptr, nullptr);
  if (sws == nullptr) throw std::runtime_error("cannot convert the input image's pixel format");
  YuvImage image(width, height);
  std::uint8_t* planes[3] = {image.y.data(), image.u.data(), image.v.data()};
  const int strides[3] = {width, width / 2, width / 2};
  sws_scale(sws, frame->data, frame->linesize, 0, frame->height, planes, strides);
  sws_freeContext(sws);
  return image;
}

}  // namespace gen_procedural

#include "encoder.hpp"

#include <algorithm>
#include <stdexcept>

#include "libav.hpp"

namespace gen_procedural {

using framehouse::media::check;
using framehouse::media::CodecPtr;
using framehouse::media::FramePtr;
using framehouse::media::make_frame;
using framehouse::media::PacketPtr;

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

}  // namespace gen_procedural

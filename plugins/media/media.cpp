#include "media.hpp"

#include <algorithm>

#include "libav.hpp"

namespace framehouse::media {

std::string av_message(int code) {
  char buffer[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, buffer, sizeof buffer);
  return buffer;
}

void check(int code, const char* what) {
  if (code < 0) throw std::runtime_error(std::string(what) + ": " + av_message(code));
}

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

YuvImage decode_first_picture(const std::string& path, int max_width, int max_height) {
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
  if (!decoded) throw std::runtime_error("no picture could be decoded");

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

}  // namespace framehouse::media

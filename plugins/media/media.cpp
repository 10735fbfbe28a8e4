#include "media.hpp"

#include <algorithm>
#include <cmath>

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

namespace {

YuvImage scaled(const YuvImage& picture, int width, int height) {
  SwsContext* sws = sws_getContext(picture.width, picture.height, AV_PIX_FMT_YUV420P, width, height, AV_PIX_FMT_YUV420P,
                                   SWS_BICUBIC | SWS_ACCURATE_RND | SWS_BITEXACT, nullptr, nullptr, nullptr);
  if (sws == nullptr) throw std::runtime_error("cannot scale the picture");
  YuvImage out(width, height);
  const std::uint8_t* source[3] = {picture.y.data(), picture.u.data(), picture.v.data()};
  const int source_strides[3] = {picture.width, picture.width / 2, picture.width / 2};
  std::uint8_t* target[3] = {out.y.data(), out.u.data(), out.v.data()};
  const int target_strides[3] = {width, width / 2, width / 2};
  sws_scale(sws, source, source_strides, 0, picture.height, target, target_strides);
  sws_freeContext(sws);
  return out;
}

// Copies `from` into `to` with from's (x, y) at to's (left, top), clipping to both.
void place(const YuvImage& from, YuvImage& to, int x, int y, int left, int top) {
  const int width = std::min(from.width - x, to.width - left);
  const int height = std::min(from.height - y, to.height - top);
  for (int row = 0; row < height; ++row) {
    std::copy_n(&from.y[std::size_t(y + row) * from.width + x], width, &to.y[std::size_t(top + row) * to.width + left]);
  }
  for (int row = 0; row < height / 2; ++row) {
    const std::size_t source = std::size_t(y / 2 + row) * (from.width / 2) + x / 2;
    const std::size_t target = std::size_t(top / 2 + row) * (to.width / 2) + left / 2;
    std::copy_n(&from.u[source], width / 2, &to.u[target]);
    std::copy_n(&from.v[source], width / 2, &to.v[target]);
  }
}

}  // namespace

YuvImage fitted(const YuvImage& picture, int width, int height, Fit fit) {
  const double cover = std::max(double(width) / picture.width, double(height) / picture.height);
  const double inside = std::min(double(width) / picture.width, double(height) / picture.height);
  const double scale = fit == Fit::crop ? cover : inside;
  // Even sizes, at least covering (crop) or at most filling (letterbox) the frame.
  int scaled_width = static_cast<int>(std::lround(picture.width * scale)) & ~1;
  int scaled_height = static_cast<int>(std::lround(picture.height * scale)) & ~1;
  if (fit == Fit::crop) {
    scaled_width = std::max(scaled_width, width);
    scaled_height = std::max(scaled_height, height);
  } else {
    scaled_width = std::clamp(scaled_width, 2, width);
    scaled_height = std::clamp(scaled_height, 2, height);
  }
  const YuvImage resized = scaled(picture, scaled_width, scaled_height);
  YuvImage out(width, height);
  std::fill(out.y.begin(), out.y.end(), 16);  // black, in video range
  std::fill(out.u.begin(), out.u.end(), 128);
  std::fill(out.v.begin(), out.v.end(), 128);
  if (fit == Fit::crop) {
    place(resized, out, ((scaled_width - width) / 2) & ~1, ((scaled_height - height) / 2) & ~1, 0, 0);
  } else {
    place(resized, out, 0, 0, ((width - scaled_width) / 2) & ~1, ((height - scaled_height) / 2) & ~1);
  }
  return out;
}

}  // namespace framehouse::media

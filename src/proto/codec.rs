//! The protobuf codec of the generated services (`codec_path` in `build.rs`):
//! tonic-prost's, except that a message that does not decode is the sender's mistake.
//!
//! tonic-prost answers a body that is not protobuf with INTERNAL, which tells a client
//! the server broke and is worth a retry; the request is what is wrong, and sending it
//! again changes nothing, so it is INVALID_ARGUMENT here.

use prost::Message;
use tonic::Status;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

/// tonic-prost's codec with [`Decoding`] as its decoder.
pub struct ProtoCodec<T, U>(ProstCodec<T, U>);

impl<T, U> Default for ProtoCodec<T, U> {
    fn default() -> Self {
        ProtoCodec(ProstCodec::default())
    }
}

impl<T, U> Codec for ProtoCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = Decoding<U>;

    fn encoder(&mut self) -> Self::Encoder {
        self.0.encoder()
    }

    fn decoder(&mut self) -> Self::Decoder {
        Decoding(self.0.decoder())
    }
}

/// Decodes a `U`; a message that is not one is INVALID_ARGUMENT naming the type.
pub struct Decoding<U>(ProstDecoder<U>);

impl<U: Message + Default> Decoder for Decoding<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        self.0.decode(buf).map_err(|status| {
            let name = std::any::type_name::<U>().rsplit("::").next().unwrap_or("message");
            Status::invalid_argument(format!("the message is not a valid {name}: {}", status.message()))
        })
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.0.buffer_settings()
    }
}

//! Where evidence files live: the local filesystem under the data directory, or any
//! S3-compatible store (`CCHC_STORAGE_URL=s3://bucket/prefix`, credentials and endpoint
//! from the usual `AWS_*` variables), shared by every instance of the service.
//!
//! Objects are named by the SHA-256 of their content, so the same file uploaded twice
//! is stored once, and what is read back can be checked against its name.
use std::{ops::Range, path::Path as FsPath, sync::Arc};

use anyhow::{Context, bail};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::{StreamExt, stream::BoxStream};
use object_store::{
    GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart, aws::AmazonS3Builder, local::LocalFileSystem,
    path::Path,
};

use crate::error::ApiError;

const PREFIX: &str = "evidence";
const CHUNK: usize = 1024 * 1024;

#[derive(Clone, Debug)]
pub struct EvidenceStore {
    inner: Arc<dyn ObjectStore>,
}

/// A stored object, or the requested part of it.
pub struct Content {
    pub stream: BoxStream<'static, object_store::Result<Bytes>>,
    pub range: Range<u64>,
    pub size: u64,
}

impl EvidenceStore {
    /// `url`: `s3://bucket[/prefix]`, `file:///absolute/path`, or none for
    /// `<data_dir>/evidence`.
    pub fn open(url: Option<&str>, data_dir: &FsPath) -> anyhow::Result<Self> {
        let inner: Arc<dyn ObjectStore> = match url {
            None => Arc::new(local(&data_dir.join("evidence"))?),
            Some(url) if url.starts_with("file://") => Arc::new(local(FsPath::new(&url["file://".len()..]))?),
            Some(url) if url.starts_with("s3://") => Arc::new(
                AmazonS3Builder::from_env()
                    .with_url(url)
                    .build()
                    .with_context(|| format!("cannot use the S3 store {url}"))?,
            ),
            Some(other) => bail!("CCHC_STORAGE_URL must start with file:// or s3://, got {other:?}"),
        };
        Ok(Self { inner })
    }

    fn key(sha256: &str) -> Path {
        Path::from(format!("{PREFIX}/{}/{sha256}", &sha256[..2]))
    }

    /// Stores the file (unless an object with this content is there already).
    pub async fn put_file(&self, sha256: &str, file: std::fs::File) -> Result<(), ApiError> {
        let key = Self::key(sha256);
        if self.inner.head(&key).await.is_ok() {
            return Ok(());
        }
        let upload = self.inner.put_multipart(&key).await.map_err(storage_error)?;
        let mut writer = WriteMultipart::new(upload);
        let mut file = Some(file);
        loop {
            let (back, chunk) = actix_web::web::block(move || {
                use std::io::Read;
                let mut f = file.take().expect("the file comes back each time");
                let mut buf = vec![0u8; CHUNK];
                let n = f.read(&mut buf)?;
                buf.truncate(n);
                Ok::<_, std::io::Error>((f, buf))
            })
            .await?
            .map_err(ApiError::internal)?;
            if chunk.is_empty() {
                break;
            }
            writer.write(&chunk);
            file = Some(back);
        }
        writer.finish().await.map_err(storage_error)?;
        Ok(())
    }

    /// Stores bytes held in memory (unless an object with this content is there already).
    pub async fn put_bytes(&self, sha256: &str, bytes: Vec<u8>) -> Result<(), ApiError> {
        let key = Self::key(sha256);
        if self.inner.head(&key).await.is_ok() {
            return Ok(());
        }
        self.inner.put(&key, object_store::PutPayload::from(bytes)).await.map_err(storage_error)?;
        Ok(())
    }

    /// The content, or the part `range` of it.
    pub async fn get(&self, sha256: &str, range: Option<Range<u64>>) -> Result<Content, ApiError> {
        let options = GetOptions { range: range.map(GetRange::Bounded), ..Default::default() };
        let result = self.inner.get_opts(&Self::key(sha256), options).await.map_err(storage_error)?;
        let (range, size) = (result.range.clone(), result.meta.size);
        Ok(Content { stream: result.into_stream(), range, size })
    }

    /// Objects older than `before`, by their SHA-256.
    pub async fn list_older_than(&self, before: DateTime<Utc>) -> Result<Vec<String>, ApiError> {
        let mut listing = self.inner.list(Some(&Path::from(PREFIX)));
        let mut out = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(storage_error)?;
            if meta.last_modified < before
                && let Some(name) = meta.location.filename()
                && name.len() == 64
            {
                out.push(name.to_owned());
            }
        }
        Ok(out)
    }

    pub async fn delete(&self, sha256: &str) -> Result<(), ApiError> {
        match self.inner.delete(&Self::key(sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(storage_error(e)),
        }
    }
}

fn local(dir: &FsPath) -> anyhow::Result<LocalFileSystem> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    LocalFileSystem::new_with_prefix(dir).with_context(|| format!("cannot use {} for evidence files", dir.display()))
}

fn storage_error(err: object_store::Error) -> ApiError {
    ApiError::new(actix_web::http::StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable").with_internal(err)
}

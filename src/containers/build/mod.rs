//! Image builds (launch stage): `docker build`, `docker buildx build`, `docker image build` and
//! compose's builds get a derived Dockerfile (`dockerfile`) and a named build context holding
//! only this run's public bundle copy (`context`), so every `RUN` can verify TLS against it while
//! the image comes out as it would without trustrun.

pub mod dockerfile;

"""Re-stamps the checksum of a mask file after a deliberate edit (with h5py, say).

sadi writes a SHA-256 of the file's HDF5 contents into its first 512 bytes (an HDF5 user block)
and refuses a mask whose contents no longer match (docs/identify.md, "Mask file"): a damaged file
never reaches libhdf5, which can crash on corrupt input. An intentional edit leaves the stamp
stale; this script writes the stamp for the contents as they are now. It does not make the mask's
own content_sha256 attribute match (sadi then warns that the numbers changed since identify).
Usage: restamp_mask.py MASK.h5"""
import hashlib
import sys

USER_BLOCK = 512
MAGIC = b"SADI mask file\nsha256 "
HDF5 = b"\x89HDF\r\n\x1a\n"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    path = sys.argv[1]
    data = open(path, "rb").read()
    if data[USER_BLOCK:USER_BLOCK + len(HDF5)] != HDF5:
        sys.exit(f"{path}: no HDF5 superblock at byte {USER_BLOCK}: not a mask file written by this sadi")
    stamp = MAGIC + hashlib.sha256(data[USER_BLOCK:]).hexdigest().encode() + b"\n"
    with open(path, "r+b") as f:
        f.write(stamp + b"\0" * (USER_BLOCK - len(stamp)))
    print(f"{path}: checksum stamped")


if __name__ == "__main__":
    main()

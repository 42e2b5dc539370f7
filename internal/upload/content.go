package upload

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// Content types a document may have: detected from the bytes, never from the client.
const (
	TypePDF  = "application/pdf"
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
	TypeWEBP = "image/webp"
	TypeDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	TypeM4A  = "audio/mp4"
	TypeMP3  = "audio/mpeg"
)

// Extensions gives the file name extension of each allowed type.
var Extensions = map[string]string{
	TypePDF: ".pdf", TypeJPEG: ".jpg", TypePNG: ".png", TypeWEBP: ".webp", TypeDOCX: ".docx", TypeM4A: ".m4a", TypeMP3: ".mp3",
}

// Detect tells the type of content from its magic bytes, or "" when it is not one of
// the allowed types (PDF, JPEG, PNG, WEBP, DOCX, M4A, MP3).
func Detect(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return TypePDF
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return TypeJPEG
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return TypePNG
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return TypeWEBP
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		if isDOCX(b) {
			return TypeDOCX
		}
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		if isM4A(b) {
			return TypeM4A
		}
	case bytes.HasPrefix(b, []byte("ID3")) && len(b) >= 10:
		return TypeMP3
	case isMP3Frame(b):
		return TypeMP3
	}
	return ""
}

// isDOCX: a zip archive holding [Content_Types].xml and word/document.xml.
func isDOCX(b []byte) bool {
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return false
	}
	var types, doc bool
	for _, f := range z.File {
		switch f.Name {
		case "[Content_Types].xml":
			types = true
		case "word/document.xml":
			doc = true
		}
	}
	return types && doc
}

// isM4A: an ISO media file whose major or compatible brands name M4A audio.
func isM4A(b []byte) bool {
	size := int(binary.BigEndian.Uint32(b[:4]))
	if size < 16 || size > len(b) || size > 4096 {
		return false
	}
	for i := 8; i+4 <= size; i += 4 {
		if i == 12 { // minor version
			continue
		}
		if string(b[i:i+4]) == "M4A " {
			return true
		}
	}
	return false
}

// isMP3Frame: an MPEG audio frame header (layer I-III) at the start.
func isMP3Frame(b []byte) bool {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return false
	}
	version, layer := (b[1]>>3)&3, (b[1]>>1)&3
	bitrate, rate := b[2]>>4, (b[2]>>2)&3
	return version != 1 && layer != 0 && bitrate != 0 && bitrate != 15 && rate != 3
}

// errMalformed: the content claims a type by its magic bytes but its structure is broken.
var errMalformed = errors.New("malformed image")

// StripMetadata removes metadata that may identify a person or place from images:
// JPEG APP1 (Exif, XMP), APP13 (IPTC) and comment segments; PNG eXIf, tEXt, zTXt and iTXt chunks;
// WEBP EXIF and XMP chunks (clearing their flags in VP8X). Segments are rewritten, pixels
// are not re-encoded. Other types are returned unchanged.
func StripMetadata(contentType string, b []byte) ([]byte, error) {
	switch contentType {
	case TypeJPEG:
		return stripJPEG(b)
	case TypePNG:
		return stripPNG(b)
	case TypeWEBP:
		return stripWEBP(b)
	}
	return b, nil
}

func stripJPEG(b []byte) ([]byte, error) {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil, errMalformed
	}
	out := make([]byte, 0, len(b))
	out = append(out, 0xFF, 0xD8)
	i := 2
	for {
		if i >= len(b) {
			return nil, errMalformed // no image data
		}
		if b[i] != 0xFF {
			return nil, errMalformed
		}
		// Fill bytes before a marker.
		for i < len(b) && b[i] == 0xFF {
			i++
		}
		if i >= len(b) {
			return nil, errMalformed
		}
		marker := b[i]
		i++
		switch {
		case marker == 0xD9: // EOI without image data
			return nil, errMalformed
		case marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7): // no length
			out = append(out, 0xFF, marker)
			continue
		}
		if i+2 > len(b) {
			return nil, errMalformed
		}
		n := int(binary.BigEndian.Uint16(b[i : i+2]))
		if n < 2 || i+n > len(b) {
			return nil, errMalformed
		}
		seg := b[i : i+n]
		if marker == 0xDA { // start of scan: the rest is entropy-coded data
			out = append(out, 0xFF, marker)
			return append(out, b[i:]...), nil
		}
		if marker != 0xE1 && marker != 0xED && marker != 0xFE {
			out = append(out, 0xFF, marker)
			out = append(out, seg...)
		}
		i += n
	}
}

var pngDrop = map[string]bool{"eXIf": true, "tEXt": true, "zTXt": true, "iTXt": true}

func stripPNG(b []byte) ([]byte, error) {
	const sig = 8
	if len(b) < sig {
		return nil, errMalformed
	}
	out := make([]byte, 0, len(b))
	out = append(out, b[:sig]...)
	i := sig
	for i < len(b) {
		if i+12 > len(b) {
			return nil, errMalformed
		}
		n := int(binary.BigEndian.Uint32(b[i : i+4]))
		if n < 0 || n > len(b)-i-12 {
			return nil, errMalformed
		}
		typ := string(b[i+4 : i+8])
		end := i + 12 + n
		if crc32.ChecksumIEEE(b[i+4:i+8+n]) != binary.BigEndian.Uint32(b[i+8+n:end]) {
			return nil, errMalformed
		}
		if !pngDrop[typ] {
			out = append(out, b[i:end]...)
		}
		i = end
		if typ == "IEND" {
			return out, nil
		}
	}
	return nil, errMalformed // no IEND
}

func stripWEBP(b []byte) ([]byte, error) {
	if len(b) < 12 {
		return nil, errMalformed
	}
	riff := int(binary.LittleEndian.Uint32(b[4:8]))
	if riff < 4 || riff+8 > len(b) {
		return nil, errMalformed
	}
	b = b[:riff+8]
	out := make([]byte, 0, len(b))
	out = append(out, b[:12]...)
	vp8x := -1
	i := 12
	for i < len(b) {
		if i+8 > len(b) {
			return nil, errMalformed
		}
		fourcc := string(b[i : i+4])
		n := int(binary.LittleEndian.Uint32(b[i+4 : i+8]))
		padded := n + n&1
		if n < 0 || padded > len(b)-i-8 {
			if padded-1 == len(b)-i-8 && n&1 == 1 { // a missing final pad byte
				padded = n
			} else {
				return nil, errMalformed
			}
		}
		chunk := b[i : i+8+padded]
		switch fourcc {
		case "EXIF", "XMP ":
		case "VP8X":
			if n < 10 {
				return nil, errMalformed
			}
			vp8x = len(out)
			out = append(out, chunk...)
		default:
			out = append(out, chunk...)
		}
		i += 8 + padded
	}
	if vp8x >= 0 {
		out[vp8x+8] &^= 0x08 | 0x04 // EXIF and XMP flags
	}
	binary.LittleEndian.PutUint32(out[4:8], uint32(len(out)-8))
	return out, nil
}

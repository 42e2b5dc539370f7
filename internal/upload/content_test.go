package upload

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content []byte
		want    string
	}{
		{"pdf", []byte("%PDF-1.7\n..."), TypePDF},
		{"jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 16}, TypeJPEG},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), TypePNG},
		{"webp", []byte("RIFF\x10\x00\x00\x00WEBPVP8 "), TypeWEBP},
		{"m4a", append([]byte{0, 0, 0, 0x18}, []byte("ftypM4A \x00\x00\x00\x00isomM4A ")...), TypeM4A},
		{"m4a as a compatible brand", append([]byte{0, 0, 0, 0x18}, []byte("ftypmp42\x00\x00\x00\x00isomM4A ")...), TypeM4A},
		{"mp3 with ID3", []byte("ID3\x03\x00\x00\x00\x00\x00\x00"), TypeMP3},
		{"mp3 frame", []byte{0xFF, 0xFB, 0x90, 0x64}, TypeMP3},
		{"mp4 video", append([]byte{0, 0, 0, 0x18}, []byte("ftypisom\x00\x00\x02\x00isomavc1")...), ""},
		{"windows executable", []byte("MZ\x90\x00\x03\x00"), ""},
		{"elf", []byte("\x7fELF\x02\x01\x01"), ""},
		{"text", []byte("just some words"), ""},
		{"html", []byte("<!doctype html><script>"), ""},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), ""},
		{"gif", []byte("GIF89a"), ""},
		{"a zip that is not docx", []byte("PK\x03\x04garbage"), ""},
		{"riff that is not webp", []byte("RIFF\x10\x00\x00\x00WAVEfmt "), ""},
		{"empty", nil, ""},
		{"mpeg sync with a bad bitrate", []byte{0xFF, 0xFB, 0xF0, 0x00}, ""},
	}
	for _, tt := range tests {
		if got := Detect(tt.content); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func webpChunk(fourcc string, data []byte) []byte {
	c := append([]byte(fourcc), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(c[4:], uint32(len(data)))
	c = append(c, data...)
	if len(data)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

// WEBP: EXIF and XMP chunks go, their VP8X flags are cleared, the RIFF size is right.
func TestStripWEBP(t *testing.T) {
	t.Parallel()
	vp8x := make([]byte, 10)
	vp8x[0] = 0x08 | 0x04 | 0x10 // EXIF, XMP, alpha
	body := append([]byte("WEBP"), webpChunk("VP8X", vp8x)...)
	body = append(body, webpChunk("VP8L", []byte("pixels!"))...)
	body = append(body, webpChunk("EXIF", []byte("MM\x00*GPS 31.2N"))...)
	body = append(body, webpChunk("XMP ", []byte("<x:xmpmeta>owner</x:xmpmeta>"))...)
	in := append([]byte("RIFF\x00\x00\x00\x00"), body...)
	binary.LittleEndian.PutUint32(in[4:], uint32(len(body)))

	out, err := StripMetadata(TypeWEBP, in)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("GPS")) || bytes.Contains(out, []byte("xmpmeta")) || bytes.Contains(out, []byte("EXIF")) {
		t.Fatalf("metadata left: %q", out)
	}
	if !bytes.Contains(out, []byte("VP8Lpixels")) && !bytes.Contains(out, []byte("pixels!")) {
		t.Fatal("image data lost")
	}
	if got := binary.LittleEndian.Uint32(out[4:]); int(got) != len(out)-8 {
		t.Fatalf("RIFF size %d, file %d", got, len(out))
	}
	if flags := out[12+8]; flags != 0x10 {
		t.Fatalf("VP8X flags %#x, want only alpha", flags)
	}
	if _, err := StripMetadata(TypeWEBP, in[:30]); err == nil {
		t.Fatal("a truncated WEBP was accepted")
	}
}

// JPEG: APP1 and comments go, everything from the start of scan is kept byte for byte;
// broken files are refused.
func TestStripJPEG(t *testing.T) {
	t.Parallel()
	seg := func(marker byte, data string) []byte {
		s := []byte{0xFF, marker, 0, 0}
		binary.BigEndian.PutUint16(s[2:], uint16(len(data)+2))
		return append(s, data...)
	}
	var in []byte
	in = append(in, 0xFF, 0xD8)
	in = append(in, seg(0xE0, "JFIF\x00\x01\x01")...)
	in = append(in, seg(0xE1, "Exif\x00\x00GPS")...)
	in = append(in, seg(0xFE, "taken at home")...)
	in = append(in, seg(0xDB, "quant")...)
	scan := append(seg(0xDA, "scan"), 0x12, 0xFF, 0x00, 0xE1, 0xFF, 0xD9)
	in = append(in, scan...)
	out, err := StripMetadata(TypeJPEG, in)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("Exif")) || bytes.Contains(out, []byte("at home")) {
		t.Fatalf("metadata left: %q", out)
	}
	if !bytes.HasSuffix(out, scan) || !bytes.Contains(out, []byte("JFIF")) || !bytes.Contains(out, []byte("quant")) {
		t.Fatalf("image segments lost: %q", out)
	}
	for _, bad := range [][]byte{in[:3], in[:10], {0xFF, 0xD8, 0xFF, 0xD9}, {0xFF, 0xD8, 0x00, 0x00}} {
		if _, err := StripMetadata(TypeJPEG, bad); err == nil {
			t.Errorf("accepted %x", bad)
		}
	}
}

func TestFilename(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, ct, want string }{
		{"知情同意书.pdf", TypePDF, "知情同意书.pdf"},
		{"C:\\Users\\老师\\扫描.PDF", TypePDF, "扫描.PDF"},
		{"../../etc/passwd", TypePDF, "passwd.pdf"},
		{"photo.jpeg", TypeJPEG, "photo.jpeg"},
		{"evil.exe", TypePNG, "evil.exe.png"},
		{"a\x00b\"c\r\n.png", TypePNG, "abc.png"},
		{"", TypeDOCX, "document.docx"},
		{"..", TypeMP3, "document.mp3"},
	}
	for _, tt := range tests {
		if got := Filename(tt.in, tt.ct, "document"); got != tt.want {
			t.Errorf("filename(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
